import { kafkaConnectionConfigSpec } from '@chat/kafka';
import { int, readConfig, str } from '@chat/runtime';
import { hostname } from 'node:os';

export const messagingConfigSpec = {
  host: str('HOST', '127.0.0.1', { doc: 'The address its HTTP server listens on.' }),
  port: int('PORT', 8081, { min: 0, max: 65535, doc: 'The port of `/healthz`, `/readyz` and `/metrics`.' }),
  databaseUrl: str('DATABASE_URL', 'postgres://postgres@127.0.0.1:5433/chat', { doc: 'The Postgres database the messages are stored in.' }),
  ...kafkaConnectionConfigSpec,
  topicPrefix: str('KAFKA_TOPIC_PREFIX', '', { doc: 'Prepended to every topic name (tests give each run its own topics).' }),
  consumerGroup: str('MESSAGING_CONSUMER_GROUP', 'messaging', { doc: 'The Kafka consumer group: its replicas split `chat.messages` by partition.' }),
  // Their batches of sends share one statement (CoalescedSends); a batch with edits or deletes holds a
  // connection of its own for its transaction.
  partitionsConcurrently: int('MESSAGING_PARTITIONS_CONCURRENTLY', 8, {
    min: 1,
    max: 64,
    doc: "Partitions processed at once; fewer than a replica is assigned adds waves to every message's latency (docs/kafka.md).",
  }),
  instanceId: str('INSTANCE_ID', `${hostname()}-${process.pid}`, { doc: 'Names this replica in its Kafka client id.', shownDefault: '`<hostname>-<pid>`' }),
};

export type MessagingConfig = ReturnType<typeof loadMessagingConfig>;

export function loadMessagingConfig(env: Record<string, string | undefined> = process.env) {
  return readConfig(messagingConfigSpec, env);
}
