export * from './client';
export * from './topics';
export * from './records';
export * from './batching-producer';
export type { Kafka, Consumer, EachBatchPayload, Admin } from 'kafkajs';
export * from './presence-records';
export * from './tracing';
export * from './consumer-lag';
