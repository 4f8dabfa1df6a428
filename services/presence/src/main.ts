import { randomUUID } from 'node:crypto';
import { BatchingProducer, ConsumerLag, createKafka, decodeHeartbeat, encodePresence, kafkaConnection, topicNames, type PresenceRecord } from '@chat/kafka';
import { createLogger, createServiceApp, installProcessPolicy, onShutdownSignal, readConfig } from '@chat/runtime';
import { presenceConfigSpec } from './config';
import { PresenceTracker } from './presence-tracker';
import { readPublishedStatuses } from './status-log';
import { Gauge, Registry } from 'prom-client';

const logger = createLogger('presence');
const registry = new Registry();
installProcessPolicy(logger, registry);
const config = readConfig(presenceConfigSpec);
const topics = topicNames(config.topicPrefix);
const kafka = createKafka({ ...kafkaConnection(config), clientId: `presence-${config.instanceId}` }, logger);
const consumer = kafka.consumer({ groupId: config.consumerGroup, sessionTimeout: 10_000, heartbeatInterval: 2_000, maxWaitTimeInMs: 100 });

let tracker = new PresenceTracker();
let joined = false;
let draining = false;
/** Set on every (re)assignment: the state of the newly owned users is rebuilt before heartbeats apply. */
let rebuilding: Promise<void> | undefined;
let owned: number[] = [];

/** Reads the statuses this replica published for its partitions back into a fresh tracker; replaces the tracker once done. */
function rebuild(partitions: number[]): Promise<void> {
  const done = (async () => {
    const next = new PresenceTracker();
    const statuses = await readPublishedStatuses(kafka, topics.presence, partitions, `${config.consumerGroup}-restore-${randomUUID()}`);
    for (const status of statuses) next.restore(status, config.ttlMs);
    tracker = next;
    logger.info({ partitions, restored: statuses.length }, 'owning users of these partitions');
  })();
  // Handled here (logged), and seen again by the batch that awaits it, which starts the rebuild anew.
  done.catch((error: unknown) => logger.error({ err: error, partitions }, 'rebuilding presence state failed; the next batch tries again'));
  return done;
}

const publish = (changes: PresenceRecord[]) =>
  Promise.all(changes.map((change) => producer.send(topics.presence, { key: change.user.id, value: encodePresence(change) })));

consumer.on(consumer.events.GROUP_JOIN, (event) => {
  joined = true;
  owned = (event.payload.memberAssignment[topics.heartbeats] ?? []) as number[];
  rebuilding = rebuild(owned);
});
consumer.on(consumer.events.CRASH, () => (joined = false));

const sweep = setInterval(() => {
  const changes = tracker.expire();
  if (changes.length > 0) publish(changes).catch((error: unknown) => logger.error({ err: error }, 'could not publish presence'));
}, Math.max(100, Math.min(1_000, config.ttlMs / 4)));

const producer = new BatchingProducer(kafka, { metrics: registry });
const lag = new ConsumerLag(registry, config.consumerGroup);
lag.watch(consumer);
new Gauge({
  name: 'chat_presence_online_users',
  help: 'Users online among those this replica owns',
  registers: [registry],
  collect() {
    this.set(tracker.onlineCount);
  },
});
const app = createServiceApp({ logger, isReady: () => !draining && joined, metrics: registry });

onShutdownSignal(logger, async () => {
  draining = true;
  clearInterval(sweep);
  await consumer.disconnect();
  await producer.disconnect();
  await app.close();
});

await producer.connect();
await consumer.connect();
await consumer.subscribe({ topic: topics.heartbeats, fromBeginning: false });
await consumer.run({
  eachBatch: async ({ batch }) => {
    lag.observe(batch);
    try {
      await rebuilding;
    } catch (error) {
      // kafkajs retries the batch with backoff; by then the new rebuild may be done.
      rebuilding = rebuild(owned);
      throw error;
    }
    const changes: PresenceRecord[] = [];
    for (const message of batch.messages) {
      const heartbeat = decodeHeartbeat(message.value);
      const change = heartbeat && tracker.apply(heartbeat);
      if (change) changes.push(change);
    }
    await publish(changes);
  },
});
await app.listen({ host: config.host, port: config.port });
