export * from './client';
export * from './backoff';
export type { TransportKind } from './transports/types';
