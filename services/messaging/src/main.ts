import { createPool } from '@chat/db';
import { createKafka, topicNames } from '@chat/kafka';
import { createLogger, createServiceApp, onShutdownSignal } from '@chat/runtime';
import { loadMessagingConfig } from './config';
import { PgMessageWriter } from './db/message-writer';
import { CommandConsumer } from './kafka/command-consumer';

const logger = createLogger('messaging');
const config = loadMessagingConfig();
const pool = createPool(config.databaseUrl, logger, config.partitionsConcurrently + 2);
const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: `messaging-${config.instanceId}` }, logger);
const consumer = new CommandConsumer({
  kafka,
  topics: topicNames(config.topicPrefix),
  groupId: config.consumerGroup,
  writer: new PgMessageWriter(pool),
  logger,
  partitionsConcurrently: config.partitionsConcurrently,
});

let draining = false;
const app = createServiceApp({ logger, isReady: () => !draining && consumer.isJoined });

onShutdownSignal(logger, async () => {
  draining = true;
  await consumer.stop();
  await app.close();
  await pool.end();
});

await consumer.start();
await app.listen({ host: config.host, port: config.port });
