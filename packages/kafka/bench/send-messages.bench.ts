/**
 * The produce path's CPU around the broker (not a test): kafkajs 2.2.4's own sendMessages against the replacement in
 * kafkajs-fixes.ts, alternated in one process, on a stand-in cluster of three brokers that answer at once. What it
 * measures is what the replacement changed: grouping a request's records by partition and leader, sequence numbers,
 * locks and the answer, per `sendBatch`. Run: `node scripts/node24.mjs --import tsx packages/kafka/bench/send-messages.bench.ts`.
 */
import '../src/kafkajs-fixes';
import { readFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { dirname } from 'node:path';
import { KeyPartitioner } from '../src/partitioner';

type SendMessages = (request: object) => Promise<unknown[]>;
type Factory = (context: object) => SendMessages;

const require = createRequire(import.meta.url);
const path = require.resolve('kafkajs/src/producer/sendMessages.js');
const replacement = require(path) as Factory;
/** kafkajs' own module, compiled afresh beside the replacement that the module cache holds under its name. */
function original(): Factory {
  const module = new Module(path) as Module & { _compile(source: string, filename: string): void; paths: string[] };
  module.filename = path;
  module.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(dirname(path));
  module._compile(readFileSync(path, 'utf8'), path);
  return module.exports as Factory;
}

const PARTITIONS = 12;
const BROKERS = 3;
const metadata = Array.from({ length: PARTITIONS }, (_, partitionId) => ({ partitionId, leader: (partitionId % BROKERS) + 1, replicas: [], isr: [], partitionErrorCode: 0 }));
const brokers = new Map(
  Array.from({ length: BROKERS }, (_, i) => i + 1).map((nodeId) => [
    nodeId,
    {
      nodeId,
      async produce({ topicData }: { topicData: { topic: string; partitions: { partition: number }[] }[] }) {
        return { topics: topicData.map(({ topic, partitions }) => ({ topicName: topic, partitions: partitions.map(({ partition }) => ({ partition, errorCode: 0, baseOffset: '0' })) })) };
      },
    },
  ]),
);

function context() {
  const sequences = new Map<string, number>();
  return {
    logger: { debug() {}, error() {} },
    cluster: {
      refreshMetadataIfNecessary: async () => {},
      refreshMetadata: async () => {},
      addMultipleTargetTopics: async () => {},
      findTopicPartitionMetadata: () => metadata,
      findLeaderForPartitions: (_topic: string, partitions: string[]) => {
        const byLeader: Record<number, number[]> = {};
        for (const partition of partitions.map(Number)) (byLeader[metadata[partition]!.leader] ??= []).push(partition);
        return byLeader;
      },
      findBroker: async ({ nodeId }: { nodeId: string }) => brokers.get(Number(nodeId)),
      removeBroker() {},
      isConnected: () => true,
      connect: async () => {},
    },
    partitioner: KeyPartitioner(),
    eosManager: {
      isTransactional: () => false,
      getProducerId: () => 1,
      getProducerEpoch: () => 0,
      getSequence: (topic: string, partition: number) => sequences.get(`${topic}/${partition}`) ?? 0,
      updateSequence: (topic: string, partition: number, n: number) => sequences.set(`${topic}/${partition}`, (sequences.get(`${topic}/${partition}`) ?? 0) + n),
      acquireBrokerLock: async () => {},
      releaseBrokerLock: async () => {},
    },
    retrier: async <T>(fn: (bail: (error: Error) => void, retryCount: number, retryTime: number) => Promise<T>) => fn(() => undefined, 0, 0),
  };
}

async function measure(send: SendMessages, records: number, sends: number): Promise<number> {
  const messages = Array.from({ length: records }, (_, i) => ({ key: `room-${i}`, value: Buffer.alloc(200) }));
  const request = { acks: -1, topicMessages: [{ topic: 'chat.messages', messages }] };
  const started = performance.now();
  for (let i = 0; i < sends; i++) await send(request);
  return ((performance.now() - started) * 1000) / sends;
}

const ROUNDS = 5;
const kafkajs = original()(context());
const ours = replacement(context());
console.log(`| records per sendBatch | kafkajs 2.2.4 µs/send | replacement µs/send | ratio |`);
console.log(`|---:|---:|---:|---:|`);
for (const records of [1, 10, 100, 1000]) {
  const sends = Math.max(200, Math.round(200_000 / records));
  await measure(kafkajs, records, sends / 4);
  await measure(ours, records, sends / 4);
  const times = { kafkajs: [] as number[], ours: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    times.kafkajs.push(await measure(kafkajs, records, sends));
    times.ours.push(await measure(ours, records, sends));
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const [a, b] = [median(times.kafkajs), median(times.ours)];
  console.log(`| ${records} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(b / a).toFixed(2)} |`);
}
