// The images run the esbuild bundles, not the sources: build them into a folder outside
// the repository (no node_modules to fall back on) and run the whole platform from them
// against the run's real Kafka and Postgres, as the Helm chart does.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { testInfra, uniqueName } from '@chat/testkit';
import { bundle } from '../bundle.mjs';

// The built web app (npm test builds it before integration tests), as the gateway image carries it.
const webRoot = fileURLToPath(new URL('../../../web/dist/', import.meta.url));
const workDir = mkdtempSync(join(tmpdir(), 'chat-bundle-'));
const running = [];
let appDir;
let databaseUrl;
let dropDatabase;

before(async () => {
  appDir = await bundle(join(workDir, 'app'));
  // An empty database: the bundled migration command has to create the schema.
  const { adminDatabaseUrl } = testInfra();
  const name = uniqueName('bundle');
  const admin = new pg.Client({ connectionString: adminDatabaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminDatabaseUrl);
  url.pathname = `/${name}`;
  databaseUrl = url.toString();
  dropDatabase = async () => {
    const client = new pg.Client({ connectionString: adminDatabaseUrl });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.end();
  };
});

after(async () => {
  for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
  await dropDatabase?.();
  rmSync(workDir, { recursive: true, force: true });
});

/** Runs a bundled command to completion, from a folder with no node_modules in reach. */
function runBundled(name, env) {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(appDir, 'bin', `${name}.mjs`)], { cwd: workDir, env: { PATH: process.env.PATH, ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
    );
  });
}

/** Starts a bundled service on an ephemeral port and waits for /readyz. */
async function startBundled(name, env) {
  const child = spawn(process.execPath, [join(appDir, 'bin', `${name}.mjs`)], {
    cwd: workDir,
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', KAFKAJS_NO_PARTITIONER_WARNING: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  for (const deadline = Date.now() + 30_000; ; await new Promise((resolve) => setTimeout(resolve, 100))) {
    assert.equal(child.exitCode, null, `${name} exited before it was ready:\n${output}`);
    assert.ok(Date.now() < deadline, `${name} was not ready within 30 s:\n${output}`);
    const port = output.match(/Server listening at http:\/\/127\.0\.0\.1:(\d+)/)?.[1];
    if (port && (await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false))) {
      return { url: `http://127.0.0.1:${port}`, child, logs: () => output };
    }
  }
}

test('a bundled service with a bad setting stops at start-up naming it', async () => {
  const result = await runBundled('gateway', { PORT: 'eighty' });
  assert.notEqual(result.code, 0);
  assert.match(result.output, /PORT must be an integer/);
});

test('the bundles migrate, create topics and run the platform: a message sent through the gateway is stored and readable', async () => {
  const prefix = `${uniqueName('bundle')}.`;
  const kafka = { KAFKA_BROKERS: testInfra().kafkaBrokers.join(','), KAFKA_TOPIC_PREFIX: prefix };

  const migrated = await runBundled('migrate', { DATABASE_URL: databaseUrl });
  assert.equal(migrated.code, 0, migrated.output);
  assert.match(migrated.output, /0001_init\.sql/);
  const topics = await runBundled('create-topics', { ...kafka, TOPIC_PARTITIONS: '2' });
  assert.equal(topics.code, 0, topics.output);

  const shared = { ...kafka, DATABASE_URL: databaseUrl };
  await Promise.all([startBundled('messaging', shared), startBundled('presence', kafka)]);
  const gateway = await startBundled('gateway', { ...shared, DEV_LOGIN: 'true', JWT_SECRET: 'x'.repeat(40), WEB_ROOT: webRoot, DRAIN_WINDOW_MS: '0' });

  const page = await fetch(`${gateway.url}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);

  const call = async (path, body, token) => {
    const response = await fetch(`${gateway.url}${path}`, {
      method: body ? 'POST' : 'GET',
      headers: { ...(body && { 'content-type': 'application/json' }), ...(token && { authorization: `Bearer ${token}` }) },
      body: body && JSON.stringify(body),
    });
    return { status: response.status, json: await response.json() };
  };
  const { json: login } = await call('/api/login', { username: 'bundle-user' });
  const { json: created } = await call('/api/rooms', { name: 'bundled' }, login.token);
  const sent = await call(`/api/rooms/${created.room.id}/messages`, { clientMsgId: 'm1', text: 'from the bundle' }, login.token);
  assert.ok(sent.status < 300, JSON.stringify(sent));

  let entries = [];
  for (const deadline = Date.now() + 15_000; entries.length === 0 && Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 100))) {
    entries = (await call(`/api/rooms/${created.room.id}/messages?after=0&limit=10`, undefined, login.token)).json.messages ?? [];
  }
  assert.deepEqual(entries.map((entry) => [entry.seq, entry.text]), [[1, 'from the bundle']]);

  gateway.child.kill('SIGTERM');
  const [code] = await once(gateway.child, 'exit');
  assert.equal(code, 0, gateway.logs());
});
