export * from './client';
export * from './topics';
export * from './records';
export * from './batching-producer';
export * from './offset-committer';
export type { Kafka, Consumer, EachBatchPayload, Admin } from 'kafkajs';
export * from './presence-records';
