export * from './client';
export * from './connection';
export * from './topic-setup';
export * from './topics';
export * from './records';
export * from './batching-producer';
export type { Kafka, Consumer, EachBatchPayload, Admin } from 'kafkajs';
export * from './presence-records';
