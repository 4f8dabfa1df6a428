export * from './client';
export * from './backoff';
export type { TransportName } from '@chat/protocol';
