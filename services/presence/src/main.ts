import { createKafka, kafkaConnection, topicNames } from '@chat/kafka';
import { armFailpoints, createLogger, createServiceApp, installProcessPolicy, onShutdownSignal } from '@chat/runtime';
import { loadPresenceConfig } from './config';
import { HeartbeatConsumer } from './heartbeat-consumer';
import { Gauge, Registry } from 'prom-client';

const logger = createLogger('presence');
const registry = new Registry();
installProcessPolicy(logger, registry);
const config = loadPresenceConfig();
armFailpoints('presence', logger);
const kafka = createKafka({ ...kafkaConnection(config), clientId: `presence-${config.instanceId}` }, logger);
const consumer = new HeartbeatConsumer({
  kafka,
  topics: topicNames(config.topicPrefix),
  groupId: config.consumerGroup,
  ttlMs: config.ttlMs,
  logger,
  metrics: registry,
});
new Gauge({
  name: 'chat_presence_online_users',
  help: 'Users online among those this replica owns',
  registers: [registry],
  collect() {
    this.set(consumer.onlineCount);
  },
});

let draining = false;
const app = createServiceApp({ logger, isReady: () => !draining && consumer.isReady, metrics: registry });

onShutdownSignal(logger, async () => {
  draining = true;
  await consumer.stop();
  await app.close();
});

await consumer.start();
await app.listen({ host: config.host, port: config.port });
