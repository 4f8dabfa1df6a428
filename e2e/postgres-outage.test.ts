// Postgres stops while users come and go: no gateway exits (a presence change it cannot look up is logged, not an
// unhandled rejection), sends acknowledged meanwhile are kept, and once Postgres is back the service resumes with
// nothing acknowledged lost. A Postgres of this test's own, stopped and started again on the same port and data.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPool, migrate } from '@chat/db';
import { createLogger } from '@chat/runtime';
import { ApiClient, createTestTopics, isolatedServiceEnv, startService, waitUntil, WsStream, type RunningService } from '@chat/testkit';
import { createDatabase, postgresDataLocations, startPostgres, type RunningPostgres } from '../infra/local/postgres.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const dataDir = join(root, '.local', `pg-outage-test-${process.pid}`, 'postgres');
let postgres: RunningPostgres;
let databaseUrl: string;
const services: RunningService[] = [];

before(async () => {
  mkdirSync(join(dataDir, '..'), { recursive: true });
  postgres = await startPostgres({ dataDir, logFile: join(dataDir, '..', 'postgres.log') });
  await createDatabase({ url: postgres.url, name: 'chat' });
  databaseUrl = postgres.url.replace(/\/postgres$/, '/chat');
  const pool = createPool(databaseUrl, createLogger('pg-outage-test', 'silent'), { max: 2 });
  await migrate(pool);
  await pool.end();
  const topics = await createTestTopics();
  const env = {
    ...isolatedServiceEnv({ name: 'chat', url: databaseUrl, pool: undefined as never, drop: async () => undefined }, topics),
    JWT_SECRET: 'test-secret-0123456789abcdef0123456789',
    PRESENCE_HEARTBEAT_MS: '300',
    PRESENCE_TTL_MS: '1500',
    PRESENCE_POLL_GRACE_MS: '500',
  };
  for (const name of ['gateway', 'messaging', 'presence'] as const) services.push(await startService(name, env));
});
after(async () => {
  await Promise.all(services.map((service) => service.kill()));
  await postgres?.stop();
  for (const dir of [join(dataDir, '..'), ...postgresDataLocations(dataDir)]) rmSync(dir, { recursive: true, force: true });
});

test('with Postgres stopped while users come and go, no gateway exits; once it is back the service resumes, nothing acknowledged lost', async () => {
  const [gateway] = services as [RunningService];
  const alice = await ApiClient.login(gateway.url, 'outage_alice');
  const bob = await ApiClient.login(gateway.url, 'outage_bob');
  const room = (await alice.createRoom('outage')).id;
  await bob.joinRoom(room);
  const watching = await WsStream.forUser(alice, { rooms: room });
  const comings = await Promise.all([1, 2, 3].map(() => WsStream.forUser(bob, { rooms: room })));
  await waitUntil(() => watching.frames.some((f) => f.type === 'presence'), 15_000, 'bob online, as alice sees it');

  await postgres.stop();
  // Bob goes: his offline status reaches the gateway, which cannot look up his rooms now.
  await Promise.all(comings.map((stream) => stream.close()));
  const acked: string[] = [];
  for (let i = 0; i < 5; i++) {
    const clientMsgId = `during-${i}`;
    const result = await alice.request('POST', `/api/rooms/${room}/messages`, { clientMsgId, text: clientMsgId }).catch(() => ({ status: 0 }));
    if (result.status === 202) acked.push(clientMsgId);
    // Users keep trying to come back; each attempt fails with an error, not a crash.
    await WsStream.forUser(bob, { rooms: room }).then((stream) => stream.close(), () => undefined);
  }
  await waitUntil(
    () => gateway.process.exitCode !== null || /presence fan-out failed/.test(gateway.logs()),
    15_000,
    'the gateway to meet a presence change it cannot look up',
  );
  assert.equal(gateway.process.exitCode, null, `the gateway is alive:\n${gateway.logs().slice(-3000)}`);
  assert.equal((await fetch(`${gateway.url}/healthz`)).status, 200);
  for (const service of services) assert.equal(service.process.exitCode, null, `${service.name} is alive`);

  postgres = await startPostgres({ dataDir, port: postgres.port, logFile: join(dataDir, '..', 'postgres.log') });
  await waitUntil(
    async () => (await alice.request('POST', `/api/rooms/${room}/messages`, { clientMsgId: 'after', text: 'after' }).catch(() => ({ status: 0 }))).status === 202,
    30_000,
    'a send accepted once Postgres is back',
  );
  const history = await waitUntil(async () => {
    const result = await alice.request<{ messages: Array<{ clientMsgId: string }> }>('GET', `/api/rooms/${room}/messages`);
    // Joins and leaves are entries of the log too: only messages carry a clientMsgId of the users'.
    const ids = result.status === 200 ? result.body.messages.filter((m) => (m as { type?: string }).type === 'message').map((m) => m.clientMsgId) : [];
    return ids.includes('after') && ids;
  }, 30_000, 'the send after the outage stored');
  for (const id of acked) assert.ok(history.includes(id), `acknowledged during the outage and kept: ${id}`);
  assert.equal(new Set(history).size, history.length, 'nothing stored twice');
  await waitUntil(() => watching.messages(room).some((m) => m.clientMsgId === 'after'), 15_000, 'the send delivered live');
  for (const service of services) assert.equal(service.process.exitCode, null, `${service.name} is alive`);
  await watching.close();
});
