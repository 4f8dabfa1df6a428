// A writer frozen (SIGSTOP: a paused VM, a stalled node; a network blackhole looks the same to Postgres) while its
// transaction holds a room's counter row: Postgres ends its session and rolls it back, so the replica that takes its
// partitions, and every other room meanwhile, go on, and nothing acknowledged by Kafka is lost or stored twice.
// Real messaging processes, Kafka and Postgres.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { encodeSendCommand, type SendCommand } from '@chat/kafka';
import {
  createTestDatabase,
  createTestTopics,
  isolatedServiceEnv,
  startService,
  testInfra,
  waitUntil,
  type RunningService,
  type TestDatabase,
} from '@chat/testkit';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const sender = { id: randomUUID(), name: 'frozen' };
const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

function command(room: string, clientMsgId: string, text: string, edit?: { target: number }): SendCommand {
  const base: SendCommand = { v: 1, room, sender, clientMsgId, text, acceptedAt: new Date().toISOString() };
  return edit ? { ...base, kind: 'message_edited', target: edit.target } : base;
}

async function prepare(partitions: number, rooms: number) {
  const [db, topics] = await Promise.all([createTestDatabase(), createTestTopics(partitions)]);
  cleanups.push(() => db.drop());
  const ids = Array.from({ length: rooms }, () => randomUUID());
  await db.pool.query('INSERT INTO users (id, name) VALUES ($1, $2)', [sender.id, sender.name]);
  await db.pool.query('INSERT INTO rooms (id, name, created_by) SELECT r, $2, $3 FROM unnest($1::uuid[]) r', [ids, 'frozen', sender.id]);
  const producer = new Kafka({ brokers: testInfra().kafkaBrokers, logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  cleanups.push(() => producer.disconnect());
  return { db, topics, rooms: ids, producer, env: isolatedServiceEnv(db, topics) };
}

/** Acknowledged by Kafka (acks=all), as the gateway acknowledges a send to its client. */
async function produce(producer: Producer, topic: string, records: Array<{ command: SendCommand; partition?: number }>): Promise<void> {
  await producer.send({ topic, acks: -1, messages: records.map(({ command: c, partition }) => ({ key: c.room, value: encodeSendCommand(c), partition })) });
}

async function start(env: Record<string, string>): Promise<RunningService> {
  const service = await startService('messaging', env);
  cleanups.push(async () => {
    service.process.kill('SIGCONT');
    await service.kill();
  });
  return service;
}

interface StoredRow {
  seq: number;
  kind: string;
  client_msg_id: string;
  text: string;
  edited: boolean;
}

async function storedIn(db: TestDatabase, room: string): Promise<StoredRow[]> {
  const { rows } = await db.pool.query<StoredRow>(
    'SELECT seq, kind, client_msg_id, text, edited_at IS NOT NULL AS edited FROM messages WHERE room_id = $1 ORDER BY seq',
    [room],
  );
  return rows;
}

const within = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

test("a replica frozen inside an edit's transaction loses its room lock: the replica that takes its partition stores the edit and later sends within 25 s, each once", async (t) => {
  const { db, topics, rooms, producer, env } = await prepare(1, 1);
  const room = rooms[0]!;
  const topic = topics.names.messages;
  // The shipped timeouts: the point is that they are right, not test-sized.
  const first = await start(env);
  await produce(producer, topic, [{ command: command(room, 'm1', 'original') }]);
  await waitUntil(async () => (await storedIn(db, room)).length === 1, 20_000, 'the first message stored');

  // The edit's transaction locks the room's counter row, inserts the edit's entry, then updates its target, where it
  // waits for this test's lock on the target row: frozen there, it holds the room's lock, as a replica paused at any
  // point of its transaction does.
  const blocker = await db.pool.connect();
  let frozenAt: number;
  try {
    await blocker.query('BEGIN');
    await blocker.query('SELECT 1 FROM messages WHERE room_id = $1 AND seq = 1 FOR UPDATE', [room]);
    await produce(producer, topic, [{ command: command(room, 'e1', 'edited', { target: 1 }) }]);
    await waitUntil(
      async () => {
        const { rows } = await db.pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        );
        return rows[0]!.n > 0;
      },
      20_000,
      "the edit's transaction waiting on the target row",
    );
    first.process.kill('SIGSTOP');
    frozenAt = Date.now();
  } finally {
    await blocker.query('ROLLBACK').finally(() => blocker.release());
  }
  // Acknowledged while the writer of its partition is frozen.
  await produce(producer, topic, [{ command: command(room, 'm2', 'after the freeze') }]);

  // Its partition moves once its Kafka session (10 s) expires.
  await start(env);
  const rows = await waitUntil(
    async () => {
      const stored = await storedIn(db, room);
      return stored.length >= 3 && stored;
    },
    25_000 - (Date.now() - frozenAt),
    'the edit and the later send stored by the second replica',
  );
  assert.deepEqual(
    rows.map((r) => [r.seq, r.kind, r.client_msg_id, r.text, r.edited]),
    [
      [1, 'message', 'm1', 'edited', true],
      [2, 'message_edited', 'e1', 'edited', false],
      [3, 'message', 'm2', 'after the freeze', false],
    ],
    `stored ${within(frozenAt)} after the freeze`,
  );
  t.diagnostic(`the edit and the later send stored ${within(frozenAt)} after the freeze`);

  // The frozen replica, resumed, finds its transaction ended and its partition gone: it lives on, and stores nothing twice.
  first.process.kill('SIGCONT');
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  assert.equal(first.process.exitCode, null, `the resumed replica is alive:\n${first.logs().slice(-3000)}`);
  assert.equal((await storedIn(db, room)).length, 3, 'nothing stored twice');
  const { rows: counter } = await db.pool.query<{ last_seq: number }>('SELECT last_seq FROM rooms WHERE id = $1', [room]);
  assert.equal(counter[0]!.last_seq, 3, "the room's counter matches its entries");
});

/** The writer's lock statement on `room` in a transaction, from a process of its own; resolves once it holds the lock. */
async function holdRoomLock(env: Record<string, string>, room: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/messaging/test/fixtures/hold-room-lock.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env, ROOM: room },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  cleanups.push(async () => {
    child.kill('SIGKILL');
    if (child.exitCode === null && child.signalCode === null) await exited;
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitUntil(() => output.includes('locked') || child.exitCode !== null, 20_000, 'the lock holder to take the lock');
  assert.equal(child.exitCode, null, 'the lock holder is running');
  return child;
}

test("a frozen holder of one room's lock stalls neither the other rooms of the statement waiting for it nor, once Postgres ends its transaction, that room", async (t) => {
  const { db, topics, rooms, producer, env: base } = await prepare(2, 2);
  const [locked, free] = rooms as [string, string];
  // Test-sized: a lock wait of 1 s, a holder's idle transaction ended after 6 s.
  const env = { ...base, DATABASE_LOCK_TIMEOUT_MS: '1000', DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '6000', DATABASE_STATEMENT_TIMEOUT_MS: '3000', DATABASE_QUERY_TIMEOUT_MS: '5000' };
  await start(env);
  const holder = await holdRoomLock(env, locked);
  holder.kill('SIGSTOP');
  const frozenAt = Date.now();
  // One send, so that both are in one fetch and, from two partitions, one shared statement.
  await produce(producer, topics.names.messages, [
    { command: command(locked, 'l1', 'to the locked room'), partition: 0 },
    { command: command(free, 'f1', 'to the other room'), partition: 1 },
  ]);

  await waitUntil(async () => (await storedIn(db, free)).length === 1, 5_000 - (Date.now() - frozenAt), 'the other room’s send stored while the lock is held');
  const freeAt = Date.now();
  assert.equal((await storedIn(db, locked)).length, 0, 'the locked room waits');
  await waitUntil(async () => (await storedIn(db, locked)).length === 1, 15_000 - (Date.now() - frozenAt), 'the locked room’s send stored once its holder is gone');
  const rows = [...(await storedIn(db, locked)), ...(await storedIn(db, free))];
  assert.deepEqual(
    rows.map((r) => [r.seq, r.client_msg_id]),
    [
      [1, 'l1'],
      [1, 'f1'],
    ],
    `the other room after ${((freeAt - frozenAt) / 1000).toFixed(1)} s, the locked one after ${within(frozenAt)}`,
  );
  t.diagnostic(`the other room stored ${((freeAt - frozenAt) / 1000).toFixed(1)} s after the freeze, the locked one after ${within(frozenAt)}`);
  const { rows: counters } = await db.pool.query<{ last_seq: number }>('SELECT last_seq FROM rooms ORDER BY last_seq');
  assert.deepEqual(counters.map((r) => r.last_seq), [1, 1], "the holder's transaction was rolled back");
});
