// The pool's limits against a real Postgres: each connection carries them to the server, the server enforces them,
// a server that stops answering (a network blackhole, here a relay that stops relaying) fails the query instead of
// hanging it, and a transaction whose session the server ends fails without taking the process down.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { createLogger } from '@chat/runtime';
import { createPool, inTransaction } from '../src/pool';
import { createTestDatabase, type TestDatabase } from '@chat/testkit';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase({ migrated: false });
});
after(() => db?.drop());

const logger = createLogger('pool-test', 'silent');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Settles with the promise, or rejects once `ms` have passed: a test of a hang must not hang itself. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: still waiting after ${ms} ms`)), ms)));
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

test('every connection carries its time limits to the server', async () => {
  const pool = createPool(db.url, logger, { max: 1, statementTimeoutMs: 4_000, lockTimeoutMs: 1_500, idleInTransactionTimeoutMs: 3_000, queryTimeoutMs: 6_000 });
  try {
    const { rows } = await pool.query<Record<string, string>>(
      `SELECT current_setting('statement_timeout') AS statement, current_setting('lock_timeout') AS lock,
              current_setting('idle_in_transaction_session_timeout') AS idle`,
    );
    assert.deepEqual(rows[0], { statement: '4s', lock: '1500ms', idle: '3s' });
    await assert.rejects(pool.query('SELECT pg_sleep(5)'), { code: '57014' }, 'the server cancels a statement past its limit');
    assert.equal((await pool.query('SELECT 1 AS one')).rows[0].one, 1, 'and the connection goes on');
  } finally {
    await pool.end();
  }
});

test('a statement waiting for a row lock past lockTimeoutMs fails with lock_not_available', async () => {
  const pool = createPool(db.url, logger, { max: 2, lockTimeoutMs: 300 });
  await pool.query('CREATE TABLE IF NOT EXISTS counters (id int PRIMARY KEY, n int NOT NULL)');
  await pool.query('INSERT INTO counters VALUES (1, 0) ON CONFLICT DO NOTHING');
  const holder = await pool.connect();
  try {
    await holder.query('BEGIN');
    await holder.query('UPDATE counters SET n = n + 1 WHERE id = 1');
    const started = performance.now();
    await assert.rejects(within(pool.query('UPDATE counters SET n = n + 1 WHERE id = 1'), 5_000, 'the waiting update'), { code: '55P03' });
    assert.ok(performance.now() - started < 2_000);
  } finally {
    await holder.query('ROLLBACK');
    holder.release();
    await pool.end();
  }
});

/** A TCP relay to Postgres that can stop relaying, both ways, while keeping every connection open: a blackhole. */
async function startRelay(target: URL): Promise<{ url: string; blackhole: boolean; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const relay = { url: '', blackhole: false, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(from);
      from.on('data', (chunk) => void (relay.blackhole || to.write(chunk)));
      from.on('error', () => to.destroy());
      from.on('close', () => {
        sockets.delete(from);
        to.destroy();
      });
    }
  });
  const close = relay.close;
  relay.close = async () => {
    for (const socket of sockets) socket.destroy();
    await close();
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(target);
  url.port = String((server.address() as AddressInfo).port);
  url.hostname = '127.0.0.1';
  relay.url = url.toString();
  return relay;
}

test('a query the server never answers fails after queryTimeoutMs, and the pool opens a new connection for the next', async () => {
  const relay = await startRelay(new URL(db.url));
  const pool = createPool(relay.url, logger, { max: 1, queryTimeoutMs: 500 });
  try {
    assert.equal((await pool.query('SELECT 1 AS one')).rows[0].one, 1);
    relay.blackhole = true;
    const started = performance.now();
    await assert.rejects(within(pool.query('SELECT 2'), 5_000, 'a query into the blackhole'), /Query read timeout/);
    assert.ok(performance.now() - started < 2_000);
    relay.blackhole = false;
    assert.equal((await within(pool.query('SELECT 3 AS three'), 5_000, 'the next query')).rows[0].three, 3);
  } finally {
    await pool.end();
    await relay.close();
  }
});

test('a transaction whose session the server ends for idling fails at its next statement, the process lives on, and so does the pool', async () => {
  const pool = createPool(db.url, logger, { max: 1, idleInTransactionTimeoutMs: 200 });
  try {
    // The server's FATAL message arrives while no statement is in flight: pg emits it as an error event, which with
    // no listener would be an uncaught exception.
    await assert.rejects(
      inTransaction(pool, async (client) => {
        await client.query('SELECT 1');
        await sleep(1_000);
        await client.query('SELECT 2');
      }),
    );
    assert.equal((await pool.query('SELECT 1 AS one')).rows[0].one, 1, 'the ended connection was dropped and replaced');
    assert.equal(await inTransaction(pool, async (client) => (await client.query('SELECT 4 AS four')).rows[0].four), 4);
  } finally {
    await pool.end();
  }
});
