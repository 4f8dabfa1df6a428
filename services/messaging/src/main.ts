import { createPool } from '@chat/db';
import { BatchingProducer, createKafka, kafkaConnection, LATENCY_BUCKETS_SECONDS, topicNames } from '@chat/kafka';
import { armFailpoints, createLogger, createServiceApp, installProcessPolicy, onShutdownSignal } from '@chat/runtime';
import { loadMessagingConfig } from './config';
import { PgMessageWriter } from './db/message-writer';
import { CommandConsumer } from './kafka/command-consumer';
import { Counter, Histogram, Registry } from 'prom-client';

const logger = createLogger('messaging');
const config = loadMessagingConfig();
armFailpoints('messaging', logger);
const pool = createPool(config.databaseUrl, logger, config.pool);
const kafka = createKafka({ ...kafkaConnection(config), clientId: `messaging-${config.instanceId}` }, logger);
const registry = new Registry();
installProcessPolicy(logger, registry);
const deadLetters = new Counter({
  name: 'chat_dead_letters_total',
  help: 'Records of chat.messages sent to chat.messages.dlq instead of being stored, by reason',
  labelNames: ['reason'],
  registers: [registry],
});
const batchSize = new Histogram({
  name: 'chat_persist_batch_size',
  help: 'Commands per Postgres transaction (one fetched batch of one partition)',
  buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500],
  registers: [registry],
});
const batchSeconds = new Histogram({
  name: 'chat_persist_batch_seconds',
  help: 'Duration of the Postgres transaction of one batch',
  buckets: LATENCY_BUCKETS_SECONDS,
  registers: [registry],
});
const consumer = new CommandConsumer({
  kafka,
  topics: topicNames(config.topicPrefix),
  groupId: config.consumerGroup,
  writer: new PgMessageWriter(pool),
  logger,
  partitionsConcurrently: config.partitionsConcurrently,
  metrics: registry,
  producer: new BatchingProducer(kafka, { metrics: registry }),
  onDeadLetter: (reason) => deadLetters.inc({ reason }),
  onBatchPersisted: (size, seconds) => {
    batchSize.observe(size);
    batchSeconds.observe(seconds);
  },
});

let draining = false;
const app = createServiceApp({ logger, isReady: () => !draining && consumer.isReady, metrics: registry });

onShutdownSignal(logger, async () => {
  draining = true;
  await consumer.stop();
  await app.close();
  await pool.end();
});

await consumer.start();
await app.listen({ host: config.host, port: config.port });
