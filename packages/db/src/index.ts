export * from './migrate';
export * from './pool';
export type { Pool, PoolClient } from 'pg';
export * from './log-entries';
