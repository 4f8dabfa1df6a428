#!/usr/bin/env node
// `npm start`: provisions what is missing, starts Kafka and Postgres, applies
// migrations, creates topics, then runs one of each service under a small
// supervisor (a crashed service is restarted with backoff) and serves the app
// at http://localhost:8080. Ctrl-C stops everything it started, in order.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTopics, ensureKafkaInstalled, startKafka } from './kafka.mjs';
import { createDatabase, ensurePostgresInstalled, startPostgres } from './postgres.mjs';
import { ensureWebBuilt } from './web-build.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const env = process.env;
const port = (name, fallback) => Number(env[name] ?? fallback);
const ports = {
  gateway: port('GATEWAY_PORT', 8080),
  messaging: port('MESSAGING_PORT', 8081),
  presence: port('PRESENCE_PORT', 8082),
  kafka: port('KAFKA_PORT', 9092),
  kafkaController: port('KAFKA_CONTROLLER_PORT', 9093),
  postgres: port('PG_PORT', 5433),
};
const stackDir = join(root, '.local', 'stack');
const logDir = join(stackDir, 'logs');
mkdirSync(logDir, { recursive: true });

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
const say = (message) => console.log(`[stack ${elapsed()}] ${message}`);

let stopping = false;
const cleanups = [];
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  say('stopping…');
  while (cleanups.length) await cleanups.pop()().catch((error) => console.error(error));
  say('stopped');
  process.exit(code);
}
process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

/** One service line for the console; the full JSON goes to the log file. */
function summarize(name, line) {
  try {
    const record = JSON.parse(line);
    if (record.level === 'debug' || record.level === 'trace') return null;
    const error = record.err?.message ? ` (${record.err.message})` : '';
    return `[${name}] ${record.level} ${record.msg ?? ''}${error}`;
  } catch {
    return `[${name}] ${line}`;
  }
}

function superviseService(name, serviceEnv) {
  const log = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
  let child;
  let restarts = 0;
  const launch = () => {
    child = spawn(process.execPath, ['--import', 'tsx', `services/${name}/src/main.ts`], {
      cwd: root,
      env: { ...env, ...serviceEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const launchedAt = Date.now();
    let buffered = '';
    const onData = (chunk) => {
      log.write(chunk);
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop();
      for (const line of lines) {
        const summary = line && summarize(name, line);
        if (summary) console.log(summary);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code, signal) => {
      if (stopping) return;
      // A process that ran a while before failing starts over with a short delay.
      if (Date.now() - launchedAt > 60_000) restarts = 0;
      const delay = Math.min(1000 * 2 ** restarts++, 15_000);
      say(`${name} exited (${signal ?? code}); restarting in ${delay} ms — see ${join(logDir, `${name}.log`)}`);
      setTimeout(() => !stopping && launch(), delay);
    });
  };
  launch();
  cleanups.push(
    () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  );
}

async function waitReady(name, url, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !stopping) {
    if (await fetch(`${url}/readyz`).then((r) => r.ok, () => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${name} did not become ready at ${url} within ${timeoutMs / 1000}s; see ${join(logDir, `${name}.log`)}`);
}

try {
  say('provisioning (cached after the first run)…');
  ensureWebBuilt({ root });
  await Promise.all([ensureKafkaInstalled({ root }), ensurePostgresInstalled()]);
  say('starting Kafka and Postgres…');
  const [kafka, postgres] = await Promise.all([
    startKafka({
      root,
      dataDir: join(stackDir, 'kafka'),
      port: ports.kafka,
      controllerPort: ports.kafkaController,
      logFile: join(logDir, 'kafka.log'),
    }),
    startPostgres({ root, dataDir: join(stackDir, 'postgres'), port: ports.postgres, logFile: join(logDir, 'postgres.log') }),
  ]);
  cleanups.push(() => postgres.stop(), () => kafka.stop());
  say(`Kafka at ${kafka.brokers}, Postgres at ${postgres.url}`);

  await createDatabase({ url: postgres.url, name: 'chat' });
  const databaseUrl = new URL(postgres.url);
  databaseUrl.pathname = '/chat';
  const migrated = await new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'packages/db/src/cli.ts'], {
      cwd: root,
      env: { ...env, DATABASE_URL: databaseUrl.toString() },
      stdio: 'inherit',
    });
    child.on('exit', (code) => resolve(code === 0));
  });
  if (!migrated) throw new Error('migrations failed');
  await createTopics({
    brokers: kafka.brokers,
    topics: [
      // Retention as docs/kafka.md explains: commands outlive an outage, events are a fan-out bus.
      { topic: 'chat.messages', numPartitions: 6, configs: { 'retention.ms': 7 * 24 * 3600 * 1000 } },
      { topic: 'chat.events', numPartitions: 6, configs: { 'retention.ms': 24 * 3600 * 1000 } },
      // Presence: heartbeats are short-lived; statuses are a compacted table of the last one per user.
      { topic: 'chat.presence.heartbeats', numPartitions: 6, configs: { 'retention.ms': 3600 * 1000 } },
      { topic: 'chat.presence', numPartitions: 6, configs: { 'cleanup.policy': 'compact' } },
    ],
  });

  const common = {
    DATABASE_URL: databaseUrl.toString(),
    KAFKA_BROKERS: kafka.brokers,
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
    HOST: env.HOST ?? '127.0.0.1',
  };
  superviseService('messaging', { ...common, PORT: String(ports.messaging) });
  superviseService('presence', { ...common, PORT: String(ports.presence) });
  superviseService('gateway', { ...common, PORT: String(ports.gateway) });
  await Promise.all(
    ['gateway', 'messaging', 'presence'].map((name) => waitReady(name, `http://127.0.0.1:${ports[name]}`)),
  );
  say(`ready: open http://localhost:${ports.gateway} (logs in ${logDir}); Ctrl-C stops everything`);
} catch (error) {
  console.error(`[stack] ${error.message}`);
  await shutdown(1);
}
