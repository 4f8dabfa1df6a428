// `create-topics`: the Helm hook Job's topic setup (and anyone's with a Kafka to set up).
// Creates the platform's topics if missing and applies their configs; idempotent.
import { createLogger, readConfig } from '@chat/runtime';
import { createKafka } from './client';
import { kafkaConnection } from './connection';
import { chatTopicSpecs, checkTopicSettings, createTopicsConfigSpec, ensureTopics } from './topic-setup';
import { topicNames } from './topics';

const logger = createLogger('create-topics');
const config = readConfig(createTopicsConfigSpec);
checkTopicSettings(config);
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
