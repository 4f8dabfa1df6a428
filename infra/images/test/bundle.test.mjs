// The images run the esbuild bundles, not the sources: build them into a folder outside
// the repository (only the node_modules the bundle ships in reach) and run the whole
// platform from them, each service behind the bundled telemetry bootstrap as the images
// start it, against the run's real Kafka and Postgres and an in-memory OTLP collector.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { roomRef } from '@chat/telemetry';
import { ApiClient, createTestDatabase, startOtlpReceiver, testInfra, uniqueName, waitUntil, WsStream } from '@chat/testkit';
import { ensureWebBuilt } from '../../local/web-build.mjs';
import { bundle } from '../bundle.mjs';

const root = fileURLToPath(new URL('../../../', import.meta.url));
// The gateway image carries the built web app (web/dist) at WEB_ROOT.
const webRoot = join(root, 'web', 'dist');
const workDir = mkdtempSync(join(tmpdir(), 'chat-bundle-'));
const running = [];
let appDir;
let database;
let receiver;

before(async () => {
  appDir = await bundle(join(workDir, 'app'));
  ensureWebBuilt({ root });
  receiver = await startOtlpReceiver();
  // An empty database: the bundled migration command has to create the schema.
  database = await createTestDatabase({ migrated: false });
});

after(async () => {
  for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
  await database?.drop();
  await receiver?.close();
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

/** Starts a bundled service as its image does, telemetry first, on an ephemeral port, and waits for /readyz. */
async function startBundled(name, env) {
  const bin = join(appDir, 'bin');
  const child = spawn(process.execPath, ['--enable-source-maps', '--import', join(bin, 'telemetry.mjs'), join(bin, `${name}.mjs`)], {
    cwd: workDir,
    env: {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      PORT: '0',
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '50',
      ...env,
    },
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

test("the gateway with its image's settings and no secret of the operator's refuses to start, and says what to set", async () => {
  // The Dockerfile's ENV: HOST=0.0.0.0, DEV_LOGIN=false.
  const image = { HOST: '0.0.0.0', PORT: '0', DEV_LOGIN: 'false' };
  const refused = await runBundled('gateway', image);
  assert.notEqual(refused.code, 0);
  assert.match(refused.output, /JWT_SECRET is not set, and its default is a public development secret.*HOST is 0\.0\.0\.0/);
  const login = await runBundled('gateway', { ...image, DEV_LOGIN: 'true', JWT_SECRET: 'x'.repeat(40) });
  assert.notEqual(login.code, 0);
  assert.match(login.output, /DEV_LOGIN=true lets anyone sign in as any user by name/);
});

const KIND = { server: 2, producer: 4, consumer: 5 };
const statementOf = (span) => String(span.attributes['db.query.text'] ?? span.attributes['db.statement'] ?? '');
const describeSpans = (spans) => spans.map((s) => `${s.service}:${s.name} ${s.spanId} <- ${s.parentSpanId || 'root'}`).join('\n');

/** The one span of `spans` that is a child of `parent` and matches, or a failed assertion showing the trace. */
function childOf(spans, parent, predicate, what) {
  const found = spans.filter((span) => span.parentSpanId === parent.spanId && predicate(span));
  assert.equal(found.length, 1, `${what}: one child of ${parent.service}:${parent.name}; trace:\n${describeSpans(spans)}`);
  return found[0];
}

test('the bundles migrate, create topics and run the platform: a message sent through the gateway is stored, readable, delivered and traced', async () => {
  const prefix = `${uniqueName('bundle')}.`;
  const kafka = { KAFKA_BROKERS: testInfra().kafkaBrokers.join(','), KAFKA_TOPIC_PREFIX: prefix };

  const migrated = await runBundled('migrate', { DATABASE_URL: database.url });
  assert.equal(migrated.code, 0, migrated.output);
  assert.match(migrated.output, /0001_init\.sql/);
  const topics = await runBundled('create-topics', { ...kafka, TOPIC_PARTITIONS: '2' });
  assert.equal(topics.code, 0, topics.output);

  const shared = { ...kafka, DATABASE_URL: database.url };
  const [messaging] = await Promise.all([startBundled('messaging', { ...shared, LOG_LEVEL: 'debug' }), startBundled('presence', kafka)]);
  const gateway = await startBundled('gateway', { ...shared, DEV_LOGIN: 'true', JWT_SECRET: 'x'.repeat(40), WEB_ROOT: webRoot, DRAIN_WINDOW_MS: '0' });

  const page = await fetch(`${gateway.url}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);

  const user = await ApiClient.login(gateway.url, 'bundle-user');
  const room = await user.createRoom('bundled');
  const stream = await WsStream.forUser(user, { rooms: room.id });
  const sent = await user.request('POST', `/api/rooms/${room.id}/messages`, { clientMsgId: 'm1', text: 'from the bundle' });
  assert.ok(sent.status < 300, JSON.stringify(sent.body));
  const [delivered] = await stream.waitForMessages(1);
  assert.equal(delivered.text, 'from the bundle');

  let entries = [];
  for (const deadline = Date.now() + 15_000; entries.length < 2 && Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 100))) {
    entries = (await user.request('GET', `/api/rooms/${room.id}/messages?after=0&limit=10`)).body.messages ?? [];
  }
  // The room's log starts with its creator's join (an entry of the log since membership-log), then the message.
  assert.deepEqual(entries.map((entry) => [entry.seq, entry.type, entry.text]), [[1, 'member_joined', undefined], [2, 'message', 'from the bundle']]);

  // The same chain e2e/tracing.test.ts asserts for the sources, here from the bundles and the modules they ship.
  const sendTo = (topic) => `send ${prefix}${topic}`;
  const produce = await waitUntil(
    () => receiver.spans.find((s) => s.name === sendTo('chat.messages') && s.attributes['chat.record.key_ref'] === roomRef(room.id)),
    10_000,
    'the gateway produce span of the POST',
  );
  const inTrace = () => receiver.spans.filter((span) => span.traceId === produce.traceId);
  // Each service exports its spans on its own schedule (messaging ends its consume span only once the publish is
  // acked, possibly after the gateway delivered): wait for the whole trace, every parent in it, not its first part.
  const complete = (spans) => {
    const ids = new Set(spans.map((span) => span.spanId));
    return spans.every((span) => span.parentSpanId === '' || ids.has(span.parentSpanId));
  };
  const spans = await waitUntil(
    () => {
      const spans = inTrace();
      const done =
        spans.some((s) => s.name === `process ${prefix}chat.events` && s.service === 'gateway') &&
        spans.some((s) => s.name === `process ${prefix}chat.messages` && s.service === 'messaging') &&
        spans.some((s) => s.service === 'messaging' && statementOf(s).includes('insert_sends(')) &&
        complete(spans);
      return done && spans;
    },
    15_000,
    'the whole trace of the POST, through messaging to the delivering gateway',
  ).catch((error) => assert.fail(`${error.message}; so far:\n${describeSpans(inTrace())}`));
  const roots = spans.filter((span) => span.parentSpanId === '');
  assert.equal(roots.length, 1, `one root; trace:\n${describeSpans(spans)}`);
  const [root] = roots;
  assert.equal(root.service, 'gateway', 'the service is named for its bundle');
  assert.equal(root.kind, KIND.server);
  assert.equal(root.name, 'POST /api/rooms/:roomId/messages', 'the http server span is named for its route by @fastify/otel');
  assert.ok(spans.some((s) => s.name === 'handler - roomRoutes'), 'the bundled Fastify is instrumented through diagnostics_channel');
  assert.equal(produce.service, 'gateway');
  assert.equal(produce.kind, KIND.producer);
  const consume = childOf(spans, produce, (s) => s.kind === KIND.consumer && s.name === `process ${prefix}chat.messages`, 'messaging consume');
  assert.equal(consume.service, 'messaging');
  const persist = childOf(spans, consume, (s) => s.name === 'persist batch', 'the Postgres transaction of the batch');
  const insert = spans.find((s) => s.service === 'messaging' && statementOf(s).includes('insert_sends('));
  assert.ok(insert, `the shipped pg is patched: a pg span for the statement that stores the batch; trace:\n${describeSpans(spans)}`);
  const byId = new Map(spans.map((span) => [span.spanId, span]));
  let ancestor = byId.get(insert.parentSpanId);
  while (ancestor && ancestor !== persist) ancestor = byId.get(ancestor.parentSpanId);
  assert.equal(ancestor, persist, 'the statement runs inside the batch span');
  const event = childOf(spans, consume, (s) => s.kind === KIND.producer && s.name === sendTo('chat.events'), 'messaging produce to chat.events');
  const delivery = childOf(spans, event, (s) => s.kind === KIND.consumer && s.name === `process ${prefix}chat.events`, 'gateway consume and deliver');
  assert.equal(delivery.service, 'gateway');
  assert.equal(delivery.attributes['chat.delivery.streams'], 1);
  // The shipped pino is patched too: the batch's log line names the trace.
  const persisted = messaging.logs().split('\n').filter((line) => line.includes('"persisted a batch"')).map((line) => JSON.parse(line));
  assert.ok(persisted.some((record) => record.trace_id === root.traceId && record.span_id === persist.spanId), messaging.logs());

  await stream.close();
  gateway.child.kill('SIGTERM');
  const [code] = await once(gateway.child, 'exit');
  assert.equal(code, 0, gateway.logs());
});
