import { kafkaConnectionConfigSpec } from '@chat/kafka';
import { int, readConfig, str } from '@chat/runtime';
import { hostname } from 'node:os';

export const messagingConfigSpec = {
  host: str('HOST', '127.0.0.1'),
  port: int('PORT', 8081, { min: 0, max: 65535 }),
  databaseUrl: str('DATABASE_URL', 'postgres://postgres@127.0.0.1:5433/chat'),
  ...kafkaConnectionConfigSpec,
  topicPrefix: str('KAFKA_TOPIC_PREFIX', ''),
  consumerGroup: str('MESSAGING_CONSUMER_GROUP', 'messaging'),
  /**
   * Partitions processed at once. Their batches of sends share one statement (CoalescedSends); a
   * batch with edits or deletes holds a connection of its own for its transaction. kafkajs fetches
   * again only when every batch of a fetch is done, so fewer slots than assigned partitions means
   * waves, and each wave adds its time to every message's latency.
   */
  partitionsConcurrently: int('MESSAGING_PARTITIONS_CONCURRENTLY', 8, { min: 1, max: 64 }),
  instanceId: str('INSTANCE_ID', `${hostname()}-${process.pid}`),
};

export type MessagingConfig = ReturnType<typeof loadMessagingConfig>;

export function loadMessagingConfig(env: Record<string, string | undefined> = process.env) {
  return readConfig(messagingConfigSpec, env);
}
