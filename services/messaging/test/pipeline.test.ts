import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { encodeSendCommand, decodeFeedRecord, type SendCommand } from '@chat/kafka';
import {
  createTestDatabase,
  createTestTopics,
  startService,
  testInfra,
  waitUntil,
  type RunningService,
  type TestDatabase,
  type TestTopics,
} from '@chat/testkit';

const ROOMS = 50;
const SENDERS = 10;
const PER_SENDER = 1000;
const TOTAL = SENDERS * PER_SENDER;

interface Run {
  db: TestDatabase;
  topics: TestTopics;
  env: Record<string, string>;
  rooms: string[];
  running: RunningService[];
}

const runs: Run[] = [];
after(async () => {
  for (const run of runs) {
    await Promise.all(run.running.map((service) => service.kill()));
    await run.db.drop();
  }
});

/** A database with 50 rooms and 10 members, topics with 6 partitions, and the environment messaging runs with. */
async function prepare(): Promise<Run> {
  const [db, topics] = await Promise.all([createTestDatabase(), createTestTopics(6)]);
  const users = Array.from({ length: SENDERS }, () => randomUUID());
  const rooms = Array.from({ length: ROOMS }, () => randomUUID());
  await db.pool.query('INSERT INTO users (id, name) SELECT u, $2 FROM unnest($1::uuid[]) u', [users, 'sender']);
  await db.pool.query('INSERT INTO rooms (id, name, created_by) SELECT r, $2, $3 FROM unnest($1::uuid[]) r', [rooms, 'load', users[0]]);
  const run: Run = {
    db,
    topics,
    rooms,
    running: [],
    env: {
      DATABASE_URL: db.url,
      KAFKA_BROKERS: testInfra().kafkaBrokers.join(','),
      KAFKA_TOPIC_PREFIX: topics.prefix,
      MESSAGING_CONSUMER_GROUP: `${topics.prefix}messaging`,
    },
  };
  runs.push(run);
  return run;
}

async function startMessaging(run: Run): Promise<RunningService> {
  const service = await startService('messaging', run.env);
  run.running.push(service);
  return service;
}

/**
 * 10 concurrent senders, 1000 sends each, spread over 50 rooms, produced
 * straight to chat.messages as gateways do. Every 7th send is produced twice
 * (a client retry with the same clientMsgId). Calls `during(sent)` as it goes.
 */
async function sendAll(run: Run, during: (sent: number) => Promise<void> = async () => {}): Promise<void> {
  const kafka = new Kafka({ brokers: testInfra().kafkaBrokers, logLevel: logLevel.NOTHING });
  let sent = 0;
  await Promise.all(
    Array.from({ length: SENDERS }, async (_, s) => {
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      const sender = { id: randomUUID(), name: `s${s}` };
      for (let batch = 0; batch < PER_SENDER / 50; batch++) {
        const messages = Array.from({ length: 50 }, (_, i) => {
          const n = batch * 50 + i;
          const command: SendCommand = {
            v: 1,
            room: run.rooms[(n * 7 + s) % ROOMS]!,
            clientMsgId: `s${s}-${n}`,
            text: `message ${n} from ${s}`,
            sender,
            acceptedAt: new Date().toISOString(),
          };
          return { key: command.room, value: encodeSendCommand(command) };
        });
        const retries = messages.filter((_, i) => i % 7 === 0);
        await producer.send({ topic: run.topics.names.messages, acks: -1, messages: [...messages, ...retries] });
        sent += messages.length;
        await during(sent);
      }
      await producer.disconnect();
    }),
  );
}

/** Every room's seqs are exactly 1..n, nothing is stored twice, and every message reached chat.events. */
async function assertDenseAndComplete(run: Run): Promise<void> {
  await waitUntil(
    async () => (await run.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM messages')).rows[0]!.n >= TOTAL,
    90_000,
    `${TOTAL} stored messages`,
  );
  const { rows } = await run.db.pool.query<{ room_id: string; n: number; max: number; distinct_sends: number }>(
    `SELECT room_id, count(*)::int AS n, max(seq)::int AS max,
            count(DISTINCT (sender_id, client_msg_id))::int AS distinct_sends
       FROM messages GROUP BY room_id`,
  );
  assert.equal(rows.reduce((sum, row) => sum + row.n, 0), TOTAL, 'every send stored exactly once');
  for (const row of rows) {
    assert.equal(row.max, row.n, `room ${row.room_id}: seqs 1..${row.n} with no gap`);
    assert.equal(row.distinct_sends, row.n, `room ${row.room_id}: no send stored twice`);
  }
  const { rows: lastSeqs } = await run.db.pool.query<{ mismatched: number }>(
    `SELECT count(*)::int AS mismatched FROM rooms r
      WHERE r.last_seq <> (SELECT coalesce(max(seq), 0) FROM messages m WHERE m.room_id = r.id)`,
  );
  assert.equal(lastSeqs[0]!.mismatched, 0, 'every room counter matches its messages');

  // chat.events: every (room, seq) published, and within a room never out of order after its first delivery.
  const kafka = new Kafka({ brokers: testInfra().kafkaBrokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `${run.topics.prefix}verify` });
  const seen = new Map<string, number>();
  const gaps: string[] = [];
  let published = 0;
  await consumer.connect();
  await consumer.subscribe({ topic: run.topics.names.events, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const record = decodeFeedRecord(message.value);
      if (record?.kind !== 'entry') return;
      const last = seen.get(record.room) ?? 0;
      if (record.seq === last + 1) {
        seen.set(record.room, record.seq);
        published++;
      } else if (record.seq > last) {
        gaps.push(`room ${record.room}: seq ${record.seq} published after ${last}`);
      }
    },
  });
  await waitUntil(() => published >= TOTAL || gaps.length > 0, 60_000, `${TOTAL} events on chat.events`);
  await consumer.disconnect();
  assert.deepEqual(gaps, [], 'no room skips a seq on chat.events');
}

test('10,000 sends over 50 rooms from 10 concurrent senders end with dense seqs and no duplicates', async () => {
  const run = await prepare();
  await startMessaging(run);
  await sendAll(run);
  await assertDenseAndComplete(run);
});

test('the same with the messaging process killed with SIGKILL twice in the middle', async () => {
  const run = await prepare();
  let messaging = await startMessaging(run);
  const kills = [Math.floor(TOTAL * 0.3), Math.floor(TOTAL * 0.6)];
  const restarts: Array<Promise<void>> = [];
  await sendAll(run, async (sent) => {
    if (kills.length > 0 && sent >= kills[0]!) {
      kills.shift();
      await messaging.kill();
      restarts.push(startMessaging(run).then((next) => void (messaging = next)));
      await restarts.at(-1);
    }
  });
  await Promise.all(restarts);
  await assertDenseAndComplete(run);
});

test('the same with a second messaging replica joining and the first leaving in the middle (rebalances)', async () => {
  const run = await prepare();
  const first = await startMessaging(run);
  let phase = 0;
  await sendAll(run, async (sent) => {
    if (phase === 0 && sent >= TOTAL * 0.3) {
      phase = 1;
      await startMessaging(run);
    } else if (phase === 1 && sent >= TOTAL * 0.6) {
      phase = 2;
      assert.equal(await first.stop(), 0, 'the leaving replica shuts down cleanly');
    }
  });
  await assertDenseAndComplete(run);
});
