/**
 * The floor under our end-to-end latency on this machine: the same two Kafka hops a message takes through ours
 * (a producer → a consumer that produces again → a consumer), with the same client settings (acks=all, idempotent,
 * records sent together in one tick share a request, the same fetch waits, no offset commit between fetches), and
 * nothing else: no WebSocket, no Postgres, no JSON beyond a timestamp. Whatever ours adds on top is the gateway, the
 * messaging service and Postgres.
 */
import { BatchingProducer, createKafka, type Consumer, type EachBatchPayload } from '@chat/kafka';
import { createLogger } from '@chat/runtime';

export interface FloorJob {
  brokers: string[];
  /** Two topics with the partitions of ours: what the gateway sends to, and what the relay publishes to. */
  topics: { commands: string; events: string };
  rooms: number;
  rate: number;
  seconds: number;
}

/** Sent before the measured records, until one per key has arrived: not a timestamp, so never counted. */
const MARKER = 'marker';

export async function kafkaFloor(
  job: FloorJob,
  paced: (total: number, rate: number, send: (n: number) => void) => Promise<void>,
): Promise<number[]> {
  // The Kafka client settings of every service.
  const kafka = createKafka({ clientId: 'bench-floor', brokers: job.brokers }, createLogger('bench-floor', 'error'));
  const group = `bench-floor-${process.pid}-${Date.now()}`;
  const sender = new BatchingProducer(kafka);
  const relayProducer = new BatchingProducer(kafka);
  // The fetch waits of the messaging service's consumer and of the gateway's event feed.
  const relay = kafka.consumer({ groupId: `${group}-relay`, maxWaitTimeInMs: 100 });
  const receiver = kafka.consumer({ groupId: `${group}-receiver`, maxWaitTimeInMs: 250 });
  const latencies: number[] = [];
  const marked = new Set<string>();
  await Promise.all([sender.connect(), relayProducer.connect()]);
  await Promise.all([
    // As the messaging service does by default: every partition's batch of a fetch at once.
    consume(relay, job.topics.commands, 8, async ({ batch }) => {
      await Promise.all(batch.messages.map((message) => relayProducer.send(job.topics.events, { key: message.key, value: message.value })));
    }),
    consume(receiver, job.topics.events, 1, async ({ batch }) => {
      const now = performance.timeOrigin + performance.now();
      for (const message of batch.messages) {
        const value = message.value!.toString();
        if (value === MARKER) marked.add(message.key!.toString());
        else latencies.push(now - Number(value));
      }
    }),
  ]);
  try {
    // A new group finds the end of its partitions at its first fetch, after it has joined: a record sent before then
    // would be skipped and look lost. Once a marker for every key has made both hops, both consumers are past that
    // point on every partition the run sends to.
    const keys = Array.from({ length: job.rooms }, (_, i) => `room-${i}`);
    const readyBy = performance.now() + 30_000;
    while (marked.size < keys.length) {
      if (performance.now() > readyBy) throw new Error('the two Kafka hops did not carry a marker for every key within 30 s');
      await Promise.all(keys.filter((key) => !marked.has(key)).map((key) => sender.send(job.topics.commands, { key, value: MARKER })));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const total = job.rate * job.seconds;
    await paced(total, job.rate, (n) => {
      // A failed send is a message that never arrives: counted as missing by the wait below.
      sender.send(job.topics.commands, { key: `room-${n % job.rooms}`, value: String(performance.timeOrigin + performance.now()) }).catch(() => undefined);
    });
    const deadline = performance.now() + 15_000;
    while (latencies.length < total && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    return latencies;
  } finally {
    await Promise.allSettled([relay.disconnect(), receiver.disconnect(), sender.disconnect(), relayProducer.disconnect()]);
  }
}

/** Runs `eachBatch` on the topic's new records (the markers tell when it is under way). */
async function consume(
  consumer: Consumer,
  topic: string,
  partitionsConsumedConcurrently: number,
  eachBatch: (payload: EachBatchPayload) => Promise<void>,
): Promise<void> {
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: false });
  // As every service's consumer: no offset commit between fetches. kafkajs' autoCommit waits for one after every batch,
  // which added a broker round trip per fetch to each hop (two hops at 2,000/s: p99 32–41 ms with it, 9–12 ms without).
  await consumer.run({ autoCommit: false, partitionsConsumedConcurrently, eachBatch });
}
