// What ManagedConsumer's policy rests on, against the real kafkajs and broker: which crashes kafkajs restarts itself
// (CRASH payload.restart) and which it gives up on, and what the wrapper does with each.
import '../src/kafkajs-fixes';
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { ManagedConsumer, type ManagedRunConfig } from '../src/consumer';
import { brokers, useTestAdmin } from './test-admin';

const testAdmin = useTestAdmin();
// On the run's own broker, which goes with the run: nothing to delete.
const topic = `consumer-crash-${randomUUID()}`;
const kafka = () => new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING, retry: { initialRetryTime: 100 } });

before(async () => {
  await testAdmin().createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  const producer = kafka().producer();
  await producer.connect();
  await producer.send({ topic, messages: [{ value: 'a record' }] });
  await producer.disconnect();
});

async function waitFor(what: string, done: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function run(eachBatch: ManagedRunConfig['eachBatch']) {
  const metrics = new Registry();
  const fatal: Error[] = [];
  const consumer = new ManagedConsumer({
    kafka: kafka(),
    config: {
      groupId: `consumer-crash-${randomUUID()}`,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 100,
      // One retry instead of kafkajs' five, so that an eachBatch that keeps failing exhausts them within a second.
      retry: { retries: 1 },
    },
    topic,
    fromBeginning: true,
    logger: pino({ level: 'silent' }),
    metrics,
    onFatal: (error) => fatal.push(error),
  });
  await consumer.start({ eachBatch });
  const crashes = async (restart: boolean) => {
    const metric = (await metrics.getMetricsAsJSON()).find((m) => m.name === 'chat_kafka_consumer_crashes_total');
    return metric?.values.find((v) => v.labels.restart === String(restart))?.value ?? 0;
  };
  return { consumer, fatal, crashes };
}

test('a TypeError from the handler is a crash kafkajs does not restart: the wrapper hands it to onFatal', async () => {
  const { consumer, fatal, crashes } = await run(async () => {
    throw new TypeError('a bug in the handler');
  });
  try {
    await waitFor('the process to be ended', () => fatal.length > 0);
    assert.deepEqual(fatal.map((error) => error.message), ['a bug in the handler']);
    assert.equal(await crashes(false), 1);
    assert.equal(consumer.isReady, false);
  } finally {
    await consumer.stop();
  }
});

test('an error that outlasts the retries is a crash kafkajs restarts: the consumer rejoins, ready again, the process goes on', async () => {
  let calls = 0;
  const { consumer, fatal, crashes } = await run(async () => {
    // The first try and its one retry fail; the try after kafkajs' restart succeeds.
    if (++calls <= 2) throw new Error('Postgres is away');
  });
  try {
    await waitFor('the restarted consumer to handle the batch', () => calls >= 3);
    await waitFor('the consumer to be ready again', () => consumer.isReady);
    assert.equal(await crashes(true), 1);
    assert.deepEqual(fatal, []);
  } finally {
    await consumer.stop();
  }
});
