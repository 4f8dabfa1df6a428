// kafkajs' idempotent producer, after a request whose records the broker appended but whose response was lost, and
// a broker out of reach for longer than kafkajs' reconnect retries: the send fails, and kafkajs has rolled back the
// sequence numbers of its partitions. Reused, the producer's next batch of the same size carries sequence numbers
// the broker already has: it is answered as a duplicate and never written (acknowledged, and lost). BatchingProducer
// replaces its producer after a failed request (packages/kafka/src/batching-producer.ts).
// A broker of this file's own, advertised through a fault proxy: the run's shared broker is never disturbed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BatchingProducer } from '@chat/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { startFaultProxy, type FaultProxy } from '@chat/testkit';
import { freePort } from '../../infra/local/common.mjs';
import { startKafka } from '../../infra/local/kafka.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const topic = 'producer-sequence';
let dataDir: string;
let proxy: FaultProxy;
let broker: Awaited<ReturnType<typeof startKafka>>;
let observer: Kafka;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'chat-producer-sequence-'));
  const port = await freePort();
  proxy = await startFaultProxy({ port });
  broker = await startKafka({ root, dataDir, port, advertisedPort: proxy.port, heapMb: 256 });
  // The observer reads past the proxy, on the broker's internal listener.
  observer = new Kafka({ brokers: [`127.0.0.1:${broker.node.ports.internal}`], logLevel: logLevel.NOTHING });
  const admin = observer.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] });
  await admin.disconnect();
});

after(async () => {
  await proxy?.close();
  await broker?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function logEnd(): Promise<number> {
  const admin = observer.admin();
  await admin.connect();
  try {
    const [partition] = await admin.fetchTopicOffsets(topic);
    return Number(partition!.high);
  } finally {
    await admin.disconnect();
  }
}

async function values(): Promise<string[]> {
  const consumer = observer.consumer({ groupId: `reader-${Date.now()}` });
  await consumer.connect();
  const seen: string[] = [];
  const end = await logEnd();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${seen.length} of ${end} records within 20 s`)), 20_000);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            seen.push(String(message.value));
            if (seen.length >= end) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

test('after a send fails on an appended request and an unreachable broker, the next send of the same size is written, not taken for a duplicate', async () => {
  // The services' client settings (packages/kafka/src/client.ts), with a shorter request timeout to keep this quick.
  const kafka = new Kafka({
    brokers: [proxy.address],
    logLevel: logLevel.NOTHING,
    retry: { initialRetryTime: 100, retries: 8, maxRetryTime: 5_000 },
    connectionTimeout: 3_000,
    requestTimeout: 3_000,
  });
  const producer = new BatchingProducer(kafka);
  await producer.connect();
  const batch = (tag: string) => Promise.all([1, 2, 3].map((i) => producer.send(topic, { key: 'room', value: `${tag}-${i}` })));
  try {
    await batch('first');
    assert.equal(await logEnd(), 3);

    // The broker gets the request and appends it; its answer never arrives.
    proxy.drop('downstream');
    const lost = batch('unanswered').then(
      () => 'acknowledged',
      (error: Error) => `failed: ${error.message}`,
    );
    for (const deadline = Date.now() + 15_000; (await logEnd()) < 6; ) {
      assert.ok(Date.now() < deadline, 'the broker appended the unanswered request');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Then the broker is out of reach: every connection reset, every new one refused.
    proxy.reset();
    await proxy.refuse();
    const outcome = await within(90_000, 'the send gives up while the broker is unreachable', lost);
    assert.match(outcome, /^failed/, 'kafkajs gives up on an unreachable broker');
    await proxy.heal();

    await within(60_000, 'a send after the broker is back', batch('after'));
    const log = await values();
    assert.deepEqual(
      log.filter((value) => value.startsWith('after-')),
      ['after-1', 'after-2', 'after-3'],
      `every acknowledged record is in the log, once: ${log.join(' ')}`,
    );
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
});
