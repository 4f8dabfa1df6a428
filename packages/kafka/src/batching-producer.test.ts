import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kafka, Message } from 'kafkajs';
import { Registry } from 'prom-client';
import { BatchingProducer, ProduceRejectedError } from './batching-producer';

/** A stand-in for kafkajs that records what each request carried (a pure unit test of the batching). */
function fakeKafka(requests: number[][]): Kafka {
  return {
    producer: () => ({
      connect: async () => undefined,
      disconnect: async () => undefined,
      sendBatch: async ({ topicMessages }: { topicMessages: Array<{ messages: Message[] }> }) => {
        requests.push(topicMessages.flatMap((t) => t.messages.map((m) => (m.value as Buffer).length)));
        await new Promise((resolve) => setTimeout(resolve, 5));
        return [];
      },
    }),
  } as unknown as Kafka;
}

test('records sent together share requests, each under the byte bound so the broker never refuses one', async () => {
  const requests: number[][] = [];
  const producer = new BatchingProducer(fakeKafka(requests), { maxBatchBytes: 100 * 1024 });
  const record = { value: Buffer.alloc(16 * 1024) };
  await Promise.all(Array.from({ length: 20 }, () => producer.send('t', record)));
  assert.equal(requests.flat().length, 20, 'every record sent once');
  for (const request of requests) assert.ok(request.reduce((a, b) => a + b, 0) <= 100 * 1024, `request of ${request.length} records is within the bound`);
  assert.ok(requests.length <= 4, `batched into ${requests.length} requests, not 20`);
});

test('a single record larger than the bound still goes out, alone', async () => {
  const requests: number[][] = [];
  const producer = new BatchingProducer(fakeKafka(requests), { maxBatchBytes: 1024 });
  await Promise.all([producer.send('t', { value: Buffer.alloc(4096) }), producer.send('t', { value: Buffer.alloc(10) })]);
  assert.deepEqual(requests, [[4096], [10]]);
});

test('chat_kafka_produce_seconds times each record from send to the acknowledgement of its request', async () => {
  const registry = new Registry();
  const producer = new BatchingProducer(fakeKafka([]), { metrics: registry });
  await Promise.all([producer.send('a', { value: Buffer.from('1') }), producer.send('a', { value: Buffer.from('2') }), producer.send('b', { value: Buffer.from('3') })]);
  const [metric] = (await registry.getMetricsAsJSON()).filter((m) => m.name === 'chat_kafka_produce_seconds');
  const values = (metric?.values ?? []) as Array<{ metricName?: string; labels: Record<string, string | number>; value: number }>;
  const of = (topic: string, suffix: string) => values.find((v) => v.metricName === `chat_kafka_produce_seconds_${suffix}` && v.labels.topic === topic)?.value;
  assert.equal(of('a', 'count'), 2);
  assert.equal(of('b', 'count'), 1);
  // The stand-in's request takes 5 ms: no record is acknowledged sooner.
  assert.ok((of('a', 'sum') ?? 0) >= 2 * 0.004, `topic a: ${of('a', 'sum')} s for two records`);
});

test('a failed request retires its producer: the next request goes out on a new one (a new producer id), connected first', async () => {
  const made: Array<{ connected: boolean; disconnected: boolean; sent: string[] }> = [];
  let failNext = false;
  const kafka = {
    producer: () => {
      const state = { connected: false, disconnected: false, sent: [] as string[] };
      made.push(state);
      return {
        connect: async () => void (state.connected = true),
        disconnect: async () => void (state.disconnected = true),
        sendBatch: async ({ topicMessages }: { topicMessages: Array<{ messages: Message[] }> }) => {
          if (!state.connected) throw new Error('sent on a producer that was never connected');
          if (failNext) {
            failNext = false;
            throw new Error('broker unreachable');
          }
          state.sent.push(...topicMessages.flatMap((t) => t.messages.map((m) => String(m.value))));
          return [];
        },
      };
    },
  } as unknown as Kafka;
  const producer = new BatchingProducer(kafka);
  await producer.connect();
  await producer.send('t', { value: 'a' });
  failNext = true;
  await assert.rejects(producer.send('t', { value: 'b' }), /broker unreachable/);
  await producer.send('t', { value: 'c' });
  await producer.send('t', { value: 'd' });
  assert.equal(made.length, 2, 'one replacement, not one per request');
  assert.deepEqual(made[0], { connected: true, disconnected: true, sent: ['a'] });
  assert.deepEqual(made[1], { connected: true, disconnected: false, sent: ['c', 'd'] });
});

test('a replacement that cannot connect fails what waits for it within its deadline, and the next request tries again', async () => {
  let made = 0;
  const kafka = {
    producer: () => {
      const index = made++;
      return {
        // The first producer connects; the second never does (a broker still down); the third does.
        connect: () => (index === 1 ? new Promise<void>(() => undefined) : Promise.resolve()),
        disconnect: async () => undefined,
        sendBatch: async ({ topicMessages }: { topicMessages: Array<{ messages: Message[] }> }) => {
          if (index === 0 && String(topicMessages[0]!.messages[0]!.value) === 'fail') throw new Error('request failed');
          return [];
        },
      };
    },
  } as unknown as Kafka;
  const producer = new BatchingProducer(kafka, { reconnectDeadlineMs: 50 });
  await producer.connect();
  await assert.rejects(producer.send('t', { value: 'fail' }), /request failed/);
  await assert.rejects(producer.send('t', { value: 'x' }), /no new Kafka producer within 50 ms/);
  await producer.send('t', { value: 'y' });
  assert.equal(made, 3);
});

/** A stand-in whose requests wait until `release()`: Kafka away. */
function stalledKafka() {
  const sent: string[][] = [];
  let releases: Array<() => void> = [];
  const kafka = {
    producer: () => ({
      connect: async () => undefined,
      disconnect: async () => undefined,
      sendBatch: async ({ topicMessages }: { topicMessages: Array<{ messages: Message[] }> }) => {
        sent.push(topicMessages.flatMap((t) => t.messages.map((m) => String(m.value))));
        await new Promise<void>((resolve) => releases.push(resolve));
        return [];
      },
    }),
  } as unknown as Kafka;
  const release = () => {
    const waiting = releases;
    releases = [];
    for (const resolve of waiting) resolve();
  };
  /** Answers requests until none waits (each answer lets the next request go out). */
  const drain = async () => {
    for (let i = 0; i < 5; i++) {
      release();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  };
  return { kafka, sent, release, drain };
}

test('past its bound of records or bytes waiting for Kafka, a send fails at once; acknowledgements make room again', async () => {
  const { kafka, drain } = stalledKafka();
  const producer = new BatchingProducer(kafka, { maxQueuedRecords: 3, maxQueuedBytes: 1_000 });
  const waiting = [producer.send('t', { value: 'a' }), producer.send('t', { value: 'b' }), producer.send('t', { value: 'c' })];
  await assert.rejects(producer.send('t', { value: 'd' }), (error: unknown) => error instanceof ProduceRejectedError && error.reason === 'queue_full');
  await drain();
  await Promise.all(waiting);
  // Bytes: one record of 900 leaves no room for one of 200.
  const big = producer.send('t', { value: Buffer.alloc(900) });
  await assert.rejects(producer.send('t', { value: Buffer.alloc(200) }), /holds 1 records \(900 bytes\)/);
  const small = producer.send('t', { value: Buffer.alloc(100) });
  await drain();
  await Promise.all([big, small]);
});

test('a send not acknowledged within its deadline fails: queued records never go out, the one in flight is answered now', async () => {
  const { kafka, sent, drain } = stalledKafka();
  const producer = new BatchingProducer(kafka, { sendTimeoutMs: 100 });
  const first = producer.send('t', { value: 'in-flight' });
  await new Promise((resolve) => setImmediate(resolve));
  const queued = [producer.send('t', { value: 'queued-1' }), producer.send('t', { value: 'queued-2' })];
  const started = performance.now();
  for (const send of [first, ...queued]) {
    await assert.rejects(send, (error: unknown) => error instanceof ProduceRejectedError && error.reason === 'timeout');
  }
  const took = performance.now() - started;
  assert.ok(took >= 90 && took < 400, `failed after ${Math.round(took)} ms (deadline 100 ms)`);
  await drain();
  assert.deepEqual(sent, [['in-flight']], 'the records given up while queued were never sent');
  // The bound is free again, and the producer works on.
  const later = producer.send('t', { value: 'later' });
  await new Promise((resolve) => setTimeout(resolve, 5));
  await drain();
  await later;
  assert.deepEqual(sent, [['in-flight'], ['later']]);
  await producer.disconnect();
});
