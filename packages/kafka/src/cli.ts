// `create-topics`: the Helm hook Job's topic setup (and anyone's with a Kafka to set up).
// Creates the platform's topics if missing and applies their configs; idempotent.
import { createLogger, int, readConfig, str } from '@chat/runtime';
import { createKafka } from './client';
import { kafkaConnection, kafkaConnectionConfigSpec } from './connection';
import { chatTopicSpecs, ensureTopics } from './topic-setup';
import { topicNames } from './topics';

const logger = createLogger('create-topics');
const config = readConfig({
  ...kafkaConnectionConfigSpec,
  topicPrefix: str('KAFKA_TOPIC_PREFIX', ''),
  partitions: int('TOPIC_PARTITIONS', 6, { min: 1, max: 10_000 }),
  replicationFactor: int('TOPIC_REPLICATION_FACTOR', 1, { min: 1, max: 32 }),
  minInsyncReplicas: int('TOPIC_MIN_INSYNC_REPLICAS', 1, { min: 1, max: 32 }),
  messagesRetentionMs: int('TOPIC_MESSAGES_RETENTION_MS', 7 * 24 * 3600 * 1000, { min: 60_000 }),
  eventsRetentionMs: int('TOPIC_EVENTS_RETENTION_MS', 24 * 3600 * 1000, { min: 60_000 }),
  heartbeatsRetentionMs: int('TOPIC_HEARTBEATS_RETENTION_MS', 3600 * 1000, { min: 60_000 }),
  // Long enough for an operator to look at what landed there and replay it (docs/kafka.md).
  deadLettersRetentionMs: int('TOPIC_DLQ_RETENTION_MS', 30 * 24 * 3600 * 1000, { min: 60_000 }),
});
const specs = chatTopicSpecs(topicNames(config.topicPrefix), {
  partitions: config.partitions,
  replicationFactor: config.replicationFactor,
  minInsyncReplicas: config.minInsyncReplicas,
  retentionMs: { messages: config.messagesRetentionMs, events: config.eventsRetentionMs, heartbeats: config.heartbeatsRetentionMs, deadLetters: config.deadLettersRetentionMs },
});
const admin = createKafka({ ...kafkaConnection(config), clientId: 'create-topics' }, logger).admin();
await admin.connect();
try {
  const result = await ensureTopics(admin, specs);
  logger.info(result, 'topics ready');
} catch (error) {
  logger.error({ err: error }, 'topic setup failed');
  process.exitCode = 1;
} finally {
  await admin.disconnect();
}
