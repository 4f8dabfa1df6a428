import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import RequestQueue from 'kafkajs/src/network/requestQueue/index.js';
import './kafkajs-fixes';
import { createRequire } from 'node:module';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** A broker connection's queue whose checks are counted and whose sends are recorded instead of written. */
function countedQueue(t: TestContext, maxInFlightRequests: number | null = 1) {
  const queue = new RequestQueue({ maxInFlightRequests, requestTimeout: 30_000, enforceRequestTimeout: true, clientId: 't', broker: 'b:9092', logger: quiet });
  const sent: unknown[] = [];
  let checks = 0;
  const check = queue.checkPendingRequests.bind(queue);
  queue.checkPendingRequests = () => {
    checks++;
    check();
  };
  queue.sendSocketRequest = (request) => void sent.push(request);
  t.after(() => queue.destroy()); // a failed assertion must not leave a timer running
  return { queue, sent, checks: () => checks };
}

test('a queue with nothing waiting arms no timer: kafkajs 2.2.4 re-checked it every millisecond for ever (#1751)', async (t) => {
  const { queue, checks } = countedQueue(t);
  queue.checkPendingRequests(); // what every fulfilled request does
  await sleep(200);
  assert.equal(checks(), 1);
  assert.equal(queue.throttleCheckTimeoutId, null);
});

test('a request queued under a broker throttle is sent when the throttle ends, and the checks then stop', async (t) => {
  const { queue, sent, checks } = countedQueue(t);
  queue.throttledUntil = Date.now() + 80;
  queue.pending.push('produce');
  queue.scheduleCheckPendingRequests();
  await sleep(40);
  assert.deepEqual(sent, []);
  await sleep(120);
  assert.deepEqual(sent, ['produce']);
  const after = checks();
  await sleep(100);
  assert.equal(checks(), after);
  assert.equal(queue.throttleCheckTimeoutId, null);
});

test('requests held by the in-flight limit are re-checked every 10 ms until they go out', async (t) => {
  const { queue, sent } = countedQueue(t, 1);
  queue.inflight.set(1, 'in flight');
  queue.pending.push('fetch');
  queue.scheduleCheckPendingRequests();
  await sleep(50);
  assert.deepEqual(sent, []);
  assert.notEqual(queue.throttleCheckTimeoutId, null); // still watching
  queue.inflight.clear();
  await sleep(50);
  assert.deepEqual(sent, ['fetch']);
});

/**
 * kafkajs' sendMessages as the producer loads it (the replacement), on a stand-in cluster: `brokers` by node id,
 * `leaders` by partition (a test may move one), records keyed by their partition's number, and an eosManager that
 * counts sequences and lets one request at a time go to a broker, as kafkajs' does.
 */
function standInSend(brokers: Map<number, unknown>, leaders: Map<number, number>) {
  const require = createRequire(import.meta.url);
  const createSendMessages = require('kafkajs/src/producer/sendMessages.js') as (context: object) => (request: object) => Promise<unknown[]>;
  const createRetry = require('kafkajs/src/retry/index.js') as (options: object) => unknown;
  const sequences = new Map<number, number>();
  const locks = new Map<unknown, Promise<void>>();
  const releases = new Map<unknown, () => void>();
  const sendMessages = createSendMessages({
    logger: quiet,
    cluster: {
      refreshMetadataIfNecessary: async () => {},
      refreshMetadata: async () => {},
      addMultipleTargetTopics: async () => {},
      findTopicPartitionMetadata: () => [0, 1].map((partitionId) => ({ partitionId, leader: leaders.get(partitionId) })),
      findBroker: async ({ nodeId }: { nodeId: string }) => brokers.get(Number(nodeId)),
      // What kafkajs' own sendMessages asks (the tests fail there, as they should, on their assertions).
      findLeaderForPartitions: (_topic: string, partitions: string[]) => {
        const byLeader: Record<number, number[]> = {};
        for (const partition of partitions.map(Number)) (byLeader[leaders.get(partition)!] ??= []).push(partition);
        return byLeader;
      },
      removeBroker() {},
      isConnected: () => true,
      connect: async () => {},
    },
    partitioner: ({ message }: { message: { key: string } }) => Number(message.key),
    eosManager: {
      isTransactional: () => false,
      getProducerId: () => 1,
      getProducerEpoch: () => 0,
      getSequence: (_topic: string, partition: number) => sequences.get(partition) ?? 0,
      updateSequence: (_topic: string, partition: number, increment: number) => sequences.set(partition, (sequences.get(partition) ?? 0) + increment),
      acquireBrokerLock: async (owner: unknown) => {
        while (locks.has(owner)) await locks.get(owner);
        locks.set(owner, new Promise<void>((resolve) => releases.set(owner, resolve)));
      },
      releaseBrokerLock: async (owner: unknown) => {
        locks.delete(owner);
        releases.get(owner)?.();
      },
    },
    retrier: createRetry({ initialRetryTime: 1, retries: 3 }),
  });
  return { sendMessages, sequences };
}

/**
 * A send to two leaders through kafkajs' sendMessages as the producer loads it (the replacement): broker 2 answers
 * NOT_LEADER_FOR_PARTITION for partition 1, whose leadership has moved to broker 1, which already answered for
 * partition 0. kafkajs 2.2.4 skipped broker 1 on the retry and resolved with partition 1's record sent to nobody.
 */
test('a retried send sends a partition that moved to a broker that already answered (kafkajs dropped it)', async () => {
  const leaders = new Map([
    [0, 1],
    [1, 2],
  ]);
  const produced: { broker: number; partitions: number[]; sequences: number[] }[] = [];
  const broker = (nodeId: number) => ({
    nodeId,
    async produce({ topicData }: { topicData: { partitions: { partition: number; firstSequence: number }[] }[] }) {
      const partitions = topicData.flatMap((topic) => topic.partitions);
      produced.push({ broker: nodeId, partitions: partitions.map((p) => p.partition), sequences: partitions.map((p) => p.firstSequence) });
      if (nodeId === 2) {
        leaders.set(1, 1);
        throw Object.assign(new Error('This server is not the leader for that topic-partition'), { name: 'KafkaJSProtocolError', type: 'NOT_LEADER_FOR_PARTITION', retriable: true });
      }
      return { topics: [{ topicName: 't', partitions: partitions.map(({ partition }) => ({ partition, errorCode: 0, baseOffset: '0' })) }] };
    },
  });
  const brokers = new Map([1, 2].map((id) => [id, broker(id)]));
  const { sendMessages, sequences } = standInSend(brokers, leaders);
  await sendMessages({ acks: -1, topicMessages: [{ topic: 't', messages: [{ key: '0', value: 'a' }, { key: '1', value: 'b' }] }] });
  assert.deepEqual(
    produced.sort((a, b) => a.broker - b.broker || a.partitions.length - b.partitions.length),
    [
      { broker: 1, partitions: [0], sequences: [0] },
      // The moved partition, with the sequence number of its failed request (a broker that had appended it answers
      // as for a duplicate).
      { broker: 1, partitions: [1], sequences: [0] },
      { broker: 2, partitions: [1], sequences: [0] },
    ],
  );
  assert.deepEqual(Object.fromEntries(sequences), { 0: 1, 1: 1 });
});

/**
 * An attempt that failed fast at broker 2 goes again while broker 1's request of it is still in flight: once that
 * answers, its partition is not sent a second time (with sequence numbers after its own, the broker would write it
 * twice). kafkajs 2.2.4 sent it again.
 */
test('a retry does not send again what a request still in flight of the failed attempt answers for', async () => {
  const produced: string[] = [];
  let failuresLeft = 1;
  const broker = (nodeId: number) => ({
    nodeId,
    async produce({ topicData }: { topicData: { partitions: { partition: number; firstSequence: number }[] }[] }) {
      const partitions = topicData.flatMap((topic) => topic.partitions);
      produced.push(`broker ${nodeId}: ${partitions.map((p) => `${p.partition}@${p.firstSequence}`).join(' ')}`);
      if (nodeId === 2 && failuresLeft-- > 0) {
        throw Object.assign(new Error('This server is not the leader for that topic-partition'), { name: 'KafkaJSProtocolError', type: 'NOT_LEADER_FOR_PARTITION', retriable: true });
      }
      if (nodeId === 1) await sleep(100); // slow, still in flight when the retry starts
      return { topics: [{ topicName: 't', partitions: partitions.map(({ partition }) => ({ partition, errorCode: 0, baseOffset: '0' })) }] };
    },
  });
  const brokers = new Map([1, 2].map((id) => [id, broker(id)]));
  const leaders = new Map([
    [0, 1],
    [1, 2],
  ]);
  const { sendMessages } = standInSend(brokers, leaders);
  await sendMessages({ acks: -1, topicMessages: [{ topic: 't', messages: [{ key: '0', value: 'a' }, { key: '1', value: 'b' }] }] });
  assert.deepEqual(produced.sort(), ['broker 1: 0@0', 'broker 2: 1@0', 'broker 2: 1@0']);
});
