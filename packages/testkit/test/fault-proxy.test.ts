// The fault proxy in front of the real servers: Postgres (the run's own, through a proxy of this file), and a Kafka
// broker of this file's own, advertised through its proxy so that every connection after the bootstrap passes it
// (docs/faults.md). The run's shared broker is never behind a proxy: other test files use it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createKafka } from '@chat/kafka';
import { createLogger } from '@chat/runtime';
import { freePort } from '../../../infra/local/common.mjs';
import { startKafka } from '../../../infra/local/kafka.mjs';
import { startFaultProxy, testInfra, type FaultProxy } from '../src/index';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => console.error(error));
});

/** What a promise did within `ms`: its value, its error, or `pending`. */
async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<{ value: T } | { error: unknown } | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<'pending'>((resolve) => (timer = setTimeout(() => resolve('pending'), ms)));
  return Promise.race([promise.then((value) => ({ value }), (error: unknown) => ({ error })), pending]).finally(() => clearTimeout(timer));
}

async function postgresBehindProxy(): Promise<{ proxy: FaultProxy; client: () => pg.Client }> {
  const direct = new URL(testInfra().adminDatabaseUrl);
  const proxy = await startFaultProxy({ host: direct.hostname, port: Number(direct.port) });
  cleanups.push(() => proxy.close());
  const through = new URL(direct);
  through.port = String(proxy.port);
  const client = () => {
    const created = new pg.Client({ connectionString: through.toString(), connectionTimeoutMillis: 15_000, query_timeout: 15_000 });
    // A reset connection also emits 'error' on the client: the assertions read it from the failed call.
    created.on('error', () => undefined);
    // end() never settles on a connection that already ended (a reset one): bounded.
    cleanups.push(() => settledWithin(created.end(), 5_000));
    return created;
  };
  return { proxy, client };
}

test('through the proxy, a Postgres query under a blackhole gets no answer, and after heal the held one and a new one are answered', async () => {
  const { proxy, client } = await postgresBehindProxy();
  const db = client();
  await db.connect();
  assert.equal((await db.query<{ n: number }>('SELECT 1 AS n')).rows[0]!.n, 1);

  proxy.blackhole();
  const held = db.query<{ n: number }>('SELECT 2 AS n');
  const fresh = client();
  const connecting = fresh.connect();
  assert.equal(await settledWithin(held, 1_500), 'pending', 'no answer under the blackhole');
  assert.equal(await settledWithin(connecting, 10), 'pending', 'a new connection gets no answer either');

  await proxy.heal();
  assert.equal((await held).rows[0]!.n, 2, 'the held query went on after heal');
  assert.equal((await db.query<{ n: number }>('SELECT 3 AS n')).rows[0]!.n, 3);
  await connecting;
  assert.equal((await fresh.query<{ n: number }>('SELECT 4 AS n')).rows[0]!.n, 4);
});

test('through the proxy, a reset fails the open Postgres connection, refuse fails a new one, and after heal a new one works', async () => {
  const { proxy, client } = await postgresBehindProxy();
  const db = client();
  await db.connect();
  proxy.reset();
  await assert.rejects(db.query('SELECT 1'), /ECONNRESET|Connection terminated unexpectedly/);

  await proxy.refuse();
  await assert.rejects(client().connect(), { code: 'ECONNREFUSED' });
  await proxy.heal();
  const again = client();
  await again.connect();
  assert.equal((await again.query<{ n: number }>('SELECT 5 AS n')).rows[0]!.n, 5);
});

test('a broker advertised through its proxy: every client connection passes the proxy, and a blackhole holds a produce until heal', async () => {
  // The proxy's port is chosen first and given to the broker as its advertised listener.
  const brokerPort = await freePort();
  const proxy = await startFaultProxy({ port: brokerPort });
  cleanups.push(() => proxy.close());
  const dataDir = join(ROOT, '.local', `fault-proxy-test-${process.pid}`, 'kafka');
  mkdirSync(dataDir, { recursive: true });
  cleanups.push(async () => rmSync(join(dataDir, '..'), { recursive: true, force: true }));
  const broker = await startKafka({ root: ROOT, dataDir, port: brokerPort, advertisedPort: proxy.port, heapMb: 256 });
  cleanups.push(() => broker.stop());
  assert.equal(broker.brokers, proxy.address);

  const kafka = createKafka({ clientId: 'fault-proxy-test', brokers: [broker.brokers] }, createLogger('fault-proxy-test', 'silent'));
  const admin = kafka.admin();
  await admin.connect();
  cleanups.push(() => admin.disconnect());
  const { brokers } = await admin.describeCluster();
  assert.deepEqual(brokers.map((b) => b.port), [proxy.port], 'the broker advertises the proxy');
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: 'behind-proxy', numPartitions: 1 }] });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  cleanups.push(() => producer.disconnect());
  await producer.send({ topic: 'behind-proxy', acks: -1, messages: [{ value: 'before' }] });

  proxy.blackhole();
  const held = producer.send({ topic: 'behind-proxy', acks: -1, messages: [{ value: 'during' }] });
  assert.equal(await settledWithin(held, 2_000), 'pending', 'no produce answer under the blackhole: the client did not go round the proxy');
  await proxy.heal();
  const [written] = await held;
  assert.equal(written!.errorCode, 0);
  const { offset } = (await admin.fetchTopicOffsets('behind-proxy'))[0]!;
  assert.equal(offset, '2', 'both records are in the log, once');
});
