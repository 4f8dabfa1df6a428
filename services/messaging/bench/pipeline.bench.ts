/**
 * Messaging benchmark (not a test): sustained persisted messages per second
 * from a backlog, and latency from send to chat.events at fixed rates.
 * Run through `npm run bench`, which starts a throwaway Kafka and Postgres.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { decodeFeedRecord, encodeSendCommand, type SendCommand } from '@chat/kafka';
import { createTestDatabase, createTestTopics, isolatedServiceEnv, startService, testInfra, type TestDatabase, type TestTopics } from '@chat/testkit';

const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 100_000);
const RATES = (process.env.BENCH_RATES ?? '2000,5000').split(',').map(Number);
const RATE_SECONDS = Number(process.env.BENCH_RATE_SECONDS ?? 10);
/** Uncounted sends at 1,000/s before the latency rates, so the new messaging process (and the broker) run warm. */
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 20);
const ROOMS = 100;

const kafka = new Kafka({ brokers: testInfra().kafkaBrokers, logLevel: logLevel.NOTHING });

async function makeRooms(db: TestDatabase, count: number): Promise<{ rooms: string[]; sender: { id: string; name: string } }> {
  const sender = { id: randomUUID(), name: 'bench' };
  const rooms = Array.from({ length: count }, () => randomUUID());
  await db.pool.query('INSERT INTO users (id, name) VALUES ($1, $2)', [sender.id, sender.name]);
  await db.pool.query('INSERT INTO rooms (id, name, created_by) SELECT r, $2, $3 FROM unnest($1::uuid[]) r', [rooms, 'bench', sender.id]);
  return { rooms, sender };
}

function command(room: string, sender: { id: string; name: string }, n: number): { key: string; value: Buffer } {
  const value: SendCommand = { v: 1, room, clientMsgId: `b${n}`, text: `benchmark message ${n} `.padEnd(100, '.'), sender, acceptedAt: new Date().toISOString() };
  return { key: room, value: encodeSendCommand(value) };
}

async function throughput(db: TestDatabase, topics: TestTopics, env: Record<string, string>): Promise<number> {
  const { rooms, sender } = await makeRooms(db, ROOMS);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  for (let start = 0; start < BACKLOG; start += 2000) {
    const messages = Array.from({ length: Math.min(2000, BACKLOG - start) }, (_, i) => command(rooms[(start + i) % ROOMS]!, sender, start + i));
    await producer.send({ topic: topics.names.messages, acks: -1, messages });
  }
  await producer.disconnect();
  const messaging = await startService('messaging', env);
  const started = Date.now();
  for (;;) {
    const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM messages');
    if (rows[0]!.n >= BACKLOG) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const seconds = (Date.now() - started) / 1000;
  await messaging.stop();
  return BACKLOG / seconds;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function latencyAt(rate: number, db: TestDatabase, topics: TestTopics, seconds = RATE_SECONDS): Promise<{ p50: number; p99: number; max: number; delivered: number; sent: number }> {
  const { rooms, sender } = await makeRooms(db, ROOMS);
  const roomSet = new Set(rooms);
  const latencies: number[] = [];
  const consumer = kafka.consumer({ groupId: `bench-${randomUUID()}`, maxWaitTimeInMs: 100 });
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
  await consumer.connect();
  await consumer.subscribe({ topic: topics.names.events, fromBeginning: false });
  // As a gateway's event feed: no offset commit between fetches (kafkajs' autoCommit would wait for one after every batch).
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const now = Date.now();
      for (const message of batch.messages) {
        const record = decodeFeedRecord(message.value);
        if (record?.kind !== 'entry' || !roomSet.has(record.room)) continue;
        latencies.push(now - Date.parse((JSON.parse(record.json) as { sentAt: string }).sentAt));
      }
    },
  });
  while (!joined) await new Promise((resolve) => setTimeout(resolve, 20));

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const tickMs = 10;
  const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
  const total = rate * seconds;
  const started = Date.now();
  let sent = 0;
  while (sent < total) {
    const due = started + (sent / rate) * 1000;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const messages = Array.from({ length: Math.min(perTick, total - sent) }, (_, i) => command(rooms[(sent + i) % ROOMS]!, sender, sent + i));
    await producer.send({ topic: topics.names.messages, acks: -1, messages });
    sent += messages.length;
  }
  const deadline = Date.now() + 30_000;
  while (latencies.length < total && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  await producer.disconnect();
  await consumer.disconnect();
  const sorted = [...latencies].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? NaN, delivered: latencies.length, sent: total };
}

/** The floor under the pipeline's latency: one kafkajs produce → consume hop at the same rate, same machine. */
async function kafkaHopAt(rate: number): Promise<{ p50: number; p99: number }> {
  const { names } = await createTestTopics(6);
  const latencies: number[] = [];
  const consumer = kafka.consumer({ groupId: `bench-hop-${randomUUID()}`, maxWaitTimeInMs: 100 });
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
  await consumer.connect();
  // The topic is new: from its beginning, so a record sent before the group's first fetch is not skipped.
  await consumer.subscribe({ topic: names.events, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const now = Date.now();
      for (const message of batch.messages) latencies.push(now - Number(message.value!.toString()));
    },
  });
  while (!joined) await new Promise((resolve) => setTimeout(resolve, 20));
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const total = rate * RATE_SECONDS;
  const perTick = Math.max(1, Math.round(rate / 100));
  const started = Date.now();
  for (let sent = 0; sent < total; sent += perTick) {
    const wait = started + (sent / rate) * 1000 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const messages = Array.from({ length: perTick }, (_, i) => ({ key: String(i), value: String(Date.now()) }));
    await producer.send({ topic: names.events, acks: -1, messages });
  }
  const deadline = Date.now() + 10_000;
  while (latencies.length < total && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  await producer.disconnect();
  await consumer.disconnect();
  const sorted = latencies.sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

const [db, topics] = await Promise.all([createTestDatabase(), createTestTopics(6)]);
const env = isolatedServiceEnv(db, topics);
try {
  const rate = await throughput(db, topics, env);
  console.log(`throughput: ${BACKLOG} messages persisted and published at ${Math.round(rate)} messages/s`);
  const messaging = await startService('messaging', env);
  await latencyAt(1000, db, topics, WARMUP_SECONDS);
  const results = [];
  for (const target of RATES) {
    const result = await latencyAt(target, db, topics);
    const hop = await kafkaHopAt(target);
    results.push({ rate: target, ...result, hop });
    console.log(`latency at ${target} messages/s: p50 ${result.p50} ms, p99 ${result.p99} ms, max ${result.max} ms (${result.delivered}/${result.sent} delivered); one bare kafkajs hop: p50 ${hop.p50} ms, p99 ${hop.p99} ms`);
  }
  await messaging.stop();
  const markdown = `## Messaging pipeline

One messaging process, 6 partitions, 100 rooms, 100-character messages, backlog of ${BACKLOG.toLocaleString('en')}. The latency rates
follow ${WARMUP_SECONDS} s of uncounted sends at 1,000 messages/s to the newly started messaging process.

| measure | result | one bare kafkajs hop, same run | target |
|---|---|---|---|
| persisted and published from a backlog | ${Math.round(rate).toLocaleString('en')} messages/s | | ≥ 10,000 messages/s |
${results
  .map(
    (l) =>
      `| send → chat.events at ${l.rate.toLocaleString('en')} messages/s (two Kafka hops and a Postgres statement) | p50 ${l.p50} ms, p99 ${l.p99} ms, max ${l.max} ms (${l.delivered}/${l.sent}) | p50 ${l.hop.p50} ms, p99 ${l.hop.p99} ms | ${l.rate === 2000 ? 'p99 < 25 ms' : '—'} |`,
  )
  .join('\n')}
`;
  console.log(`BENCH_MARKDOWN ${Buffer.from(markdown).toString('base64')}`);
} finally {
  await db.drop();
}
