#!/usr/bin/env node
// `npm start`: provisions what is missing, starts Kafka and Postgres, applies
// migrations, creates topics, then runs one of each service under a small
// supervisor (a crashed service is restarted with backoff) and serves the app
// at http://localhost:8080. `npm run start:cluster` (or `npm start -- --gateways N`)
// runs replicas behind nginx instead, and `npm start -- --brokers 3` a Kafka cluster of three brokers (replication
// factor 3, two in sync for a write). Ctrl-C stops everything it started, in order.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureKafkaInstalled, startKafkaCluster } from './kafka.mjs';
import { freePort } from './common.mjs';
import { ensureNginxInstalled, startNginx } from './nginx.mjs';
import { createDatabase, ensurePostgresInstalled, startPostgres } from './postgres.mjs';
import { createSupervisor } from './supervisor.mjs';
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
// `--cluster` or `--gateways N`: N gateways (default 2), two messaging and two presence
// replicas on internal ports, behind nginx on the gateway port, as in a cluster.
const gatewaysArg = process.argv.indexOf('--gateways');
const gatewayCount = gatewaysArg >= 0 ? Number(process.argv[gatewaysArg + 1]) : 2;
const cluster = gatewaysArg >= 0 || process.argv.includes('--cluster');
if (!Number.isInteger(gatewayCount) || gatewayCount < 1) {
  console.error('[stack] --gateways needs a whole number of at least 1');
  process.exit(2);
}
// `--brokers N`: N Kafka brokers, broker i (from 0) on KAFKA_PORT + 2i with its controller on
// KAFKA_CONTROLLER_PORT + 2i (9092/9093, 9094/9095, 9096/9097 by default); topics get min(N, 3) replicas and need two of them in sync from three on.
const brokersArg = process.argv.indexOf('--brokers');
const brokerCount = brokersArg >= 0 ? Number(process.argv[brokersArg + 1]) : 1;
if (!Number.isInteger(brokerCount) || brokerCount < 1 || brokerCount > 9) {
  console.error('[stack] --brokers needs a whole number from 1 to 9');
  process.exit(2);
}
const stackDir = join(root, '.local', 'stack');
const logDir = join(stackDir, 'logs');
mkdirSync(logDir, { recursive: true });

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
const say = (message) => console.log(`[stack ${elapsed()}] ${message}`);

const supervisor = createSupervisor({ root, logDir, say });
let stopping = false;
const cleanups = [() => supervisor.stop()];
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  say('stopping…');
  while (cleanups.length) await cleanups.pop()().catch((error) => console.error(error));
  say('stopped');
  process.exit(code);
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    shutdown(0).catch((error) => console.error(error));
  });
}

try {
  say('provisioning (cached after the first run)…');
  ensureWebBuilt({ root });
  await Promise.all([ensureKafkaInstalled({ root }), ensurePostgresInstalled()]);
  if (cluster) ensureNginxInstalled();
  say('starting Kafka and Postgres…');
  const [kafka, postgres] = await Promise.all([
    startKafkaCluster({
      root,
      // One broker keeps the folder it always had; a cluster's nodes live in their own, and one of each size.
      dataDir: join(stackDir, brokerCount === 1 ? 'kafka' : `kafka-${brokerCount}`),
      size: brokerCount,
      ports: Array.from({ length: brokerCount }, (_, i) => ({ client: ports.kafka + 2 * i, controller: ports.kafkaController + 2 * i })),
      logFiles: Array.from({ length: brokerCount }, (_, i) => join(logDir, brokerCount === 1 ? 'kafka.log' : `kafka-${i + 1}.log`)),
    }),
    startPostgres({ root, dataDir: join(stackDir, 'postgres'), port: ports.postgres, logFile: join(logDir, 'postgres.log') }),
  ]);
  // Stopped after the services (cleanups run newest first).
  cleanups.unshift(() => postgres.stop(), () => kafka.stop());
  say(`Kafka at ${kafka.brokers}, Postgres at ${postgres.url}`);

  await createDatabase({ url: postgres.url, name: 'chat' });
  const databaseUrl = new URL(postgres.url);
  databaseUrl.pathname = '/chat';
  // The same setup commands the Helm hook Jobs run: schema migrations, then the topics of docs/kafka.md.
  await runSetupCommand('migrations', 'packages/db/src/cli.ts', { DATABASE_URL: databaseUrl.toString() });
  const replicas = Math.min(3, brokerCount);
  await runSetupCommand('topic setup', 'packages/kafka/src/cli.ts', {
    KAFKA_BROKERS: kafka.brokers,
    TOPIC_REPLICATION_FACTOR: String(replicas),
    TOPIC_MIN_INSYNC_REPLICAS: String(replicas >= 3 ? 2 : 1),
  });

  const common = {
    DATABASE_URL: databaseUrl.toString(),
    KAFKA_BROKERS: kafka.brokers,
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
    HOST: env.HOST ?? '127.0.0.1',
  };
  if (cluster) await startCluster(common);
  else {
    supervisor.supervise('messaging', 'messaging', { ...common, PORT: String(ports.messaging) });
    supervisor.supervise('presence', 'presence', { ...common, PORT: String(ports.presence) });
    supervisor.supervise('gateway', 'gateway', { ...common, PORT: String(ports.gateway) });
    await Promise.all(
      ['gateway', 'messaging', 'presence'].map((name) => supervisor.waitReady(name, `http://127.0.0.1:${ports[name]}`)),
    );
  }
  say(`ready: open http://localhost:${ports.gateway} (logs in ${logDir}); Ctrl-C stops everything`);
} catch (error) {
  console.error(`[stack] ${error.message}`);
  await shutdown(1);
}

/** The replicas on free ports, then nginx in front of the gateways (stopped first). */
async function startCluster(common) {
  const replicas = [];
  for (const [service, count] of [['messaging', 2], ['presence', 2], ['gateway', gatewayCount]]) {
    for (let i = 1; i <= count; i++) {
      const name = `${service}-${i}`;
      const port = await freePort();
      supervisor.supervise(name, service, { ...common, PORT: String(port), INSTANCE_ID: name });
      replicas.push({ name, service, port });
    }
  }
  await Promise.all(replicas.map(({ name, port }) => supervisor.waitReady(name, `http://127.0.0.1:${port}`)));
  const gateways = replicas.filter((replica) => replica.service === 'gateway');
  const nginx = await startNginx({
    dir: join(stackDir, 'nginx'),
    host: env.HOST ?? '127.0.0.1',
    port: ports.gateway,
    upstreams: gateways.map(({ port }) => `127.0.0.1:${port}`),
  });
  cleanups.push(() => nginx.stop());
  say(`nginx on :${ports.gateway} → ${gateways.map(({ name, port }) => `${name} :${port}`).join(', ')}`);
}

/** Runs one of the platform's setup commands (TypeScript, through tsx) to completion. */
async function runSetupCommand(label, script, commandEnv) {
  const ok = await new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: root, env: { ...env, ...commandEnv }, stdio: 'inherit' });
    child.on('exit', (code) => resolve(code === 0));
  });
  if (!ok) throw new Error(`${label} failed`);
}
