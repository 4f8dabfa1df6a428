export * from './client';
export * from './backoff';
export { DEFAULT_LIVENESS, type LivenessOptions } from './liveness';
export type { TransportName } from '@chat/protocol';
export type { ConnectionEvent, SendAttemptEvent } from './hooks';
