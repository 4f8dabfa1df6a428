#!/usr/bin/env node
// Manual end-to-end check of infra/local: `node infra/local/smoke.mjs`.
// Provisions, starts Kafka and Postgres on ephemeral ports with data under
// .local/smoke-<random>/, exercises both, restarts both on the same data dirs
// (new ports) and checks nothing was lost, then stops them and deletes the data.
// kafkajs and pg come from the repo root node_modules, else from SMOKE_MODULES
// (default /tmp/infra-scratch/node_modules: `npm i kafkajs@2.2.4 pg@8` there).
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireFromRepo } from './common.mjs';
import { createTopics, ensureKafkaInstalled, KAFKA_VERSION, startKafka } from './kafka.mjs';
import { createDatabase, ensurePostgresInstalled, startPostgres } from './postgres.mjs';

process.env.SMOKE_MODULES ??= '/tmp/infra-scratch/node_modules';
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const root = fileURLToPath(new URL('../..', import.meta.url));
const { Kafka, logLevel } = requireFromRepo(root, 'kafkajs');
const pg = requireFromRepo(root, 'pg');

const timings = {};
async function timed(name, action) {
  const started = Date.now();
  const result = await action();
  timings[name] = Date.now() - started;
  console.log(`${name}: ${timings[name]} ms`);
  return result;
}
function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
  console.log(`ok - ${message}`);
}

const runDir = join(root, '.local', `smoke-${randomBytes(4).toString('hex')}`);
const topic = 'smoke.messages';
const groupId = 'smoke-group';
const running = [];
const stopAll = async () => {
  while (running.length) await running.pop()();
};
process.on('SIGINT', () => {
  stopAll().then(
    () => process.exit(130),
    (error) => {
      console.error(error);
      process.exit(130);
    },
  );
});

/** Consumes until `count` messages arrived, then lingers briefly to catch extras. */
async function consume(kafka, count) {
  // A short long-poll, so disconnect() does not wait out an idle 5 s fetch.
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const received = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${received.length}/${count} messages within 30s`)), 30_000);
    consumer
      .run({
        eachMessage: async ({ partition, message }) => {
          received.push({ partition, value: message.value.toString() });
          if (received.length === count) {
            clearTimeout(timer);
            setTimeout(resolve, 1000);
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect(); // commits the offsets of what was processed
  return received;
}

async function committed(admin) {
  const [{ partitions }] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return partitions.reduce((sum, { offset }) => sum + Math.max(0, Number(offset)), 0);
}

async function round(number, { produce, expectCommittedBefore }) {
  console.log(`\n— round ${number} (data in ${runDir})`);
  const kafkaInfo = await timed(`round ${number}: kafka start-to-ready`, () =>
    startKafka({ root, dataDir: join(runDir, 'kafka'), logFile: join(runDir, 'kafka.log') }),
  );
  running.push(() => timed(`round ${number}: kafka stop`, () => kafkaInfo.stop()));
  const postgresInfo = await timed(`round ${number}: postgres start-to-ready`, () =>
    startPostgres({ root, dataDir: join(runDir, 'postgres'), logFile: join(runDir, 'postgres.log') }),
  );
  running.push(() => timed(`round ${number}: postgres stop`, () => postgresInfo.stop()));
  console.log(`kafka ${kafkaInfo.brokers} (pid ${kafkaInfo.pid}), postgres ${postgresInfo.url} (pid ${postgresInfo.pid})`);

  const kafka = new Kafka({ clientId: 'smoke', brokers: [kafkaInfo.brokers], logLevel: logLevel.WARN });
  const admin = kafka.admin();
  await admin.connect();
  try {
    // Twice: the second call must be a no-op.
    await timed(`round ${number}: createTopics`, () => createTopics({ brokers: kafkaInfo.brokers, topics: [{ topic, numPartitions: 3 }] }));
    await createTopics({ brokers: kafkaInfo.brokers, topics: [{ topic, numPartitions: 3 }] });
    const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
    check(metadata.partitions.length === 3, `${topic} has 3 partitions`);
    check((await committed(admin)) === expectCommittedBefore, `group ${groupId} has ${expectCommittedBefore} committed offsets before round ${number}`);

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const messages = Array.from({ length: produce }, (_, i) => ({ key: `k${i}`, value: `round${number}-${i}` }));
    await timed(`round ${number}: produce ${produce}`, () => producer.send({ topic, acks: -1, messages }));
    await producer.disconnect();

    const received = await timed(`round ${number}: consume ${produce}`, () => consume(kafka, produce));
    check(received.length === produce, `consumed exactly the ${produce} new messages`);
    check(received.every(({ value }) => value.startsWith(`round${number}-`)), 'no message of an earlier round was redelivered');
    check(new Set(received.map(({ partition }) => partition)).size > 1, 'messages spread over several partitions');
    check((await committed(admin)) === expectCommittedBefore + produce, `offsets committed up to ${expectCommittedBefore + produce}`);
  } finally {
    await admin.disconnect();
  }

  const client = new pg.Client({ connectionString: postgresInfo.url });
  await client.connect();
  try {
    check((await client.query('select 1 as one')).rows[0].one === 1, 'postgres answers select 1');
    const existed = (await client.query("select 1 from pg_database where datname = 'smoke_db'")).rowCount === 1;
    check(existed === (number > 1), `database smoke_db ${number > 1 ? 'survived the restart' : 'is new'}`);
    await createDatabase({ url: postgresInfo.url, name: 'smoke_db' });
    await createDatabase({ url: postgresInfo.url, name: 'smoke_db' });
    check((await client.query("select 1 from pg_database where datname = 'smoke_db'")).rowCount === 1, 'createDatabase is idempotent');
  } finally {
    await client.end();
  }
  await stopAll();
  return postgresInfo.dataDir;
}

let failed = false;
let postgresDataDir;
try {
  await timed('ensureKafkaInstalled', () => ensureKafkaInstalled({ root }));
  await timed('ensurePostgresInstalled', () => ensurePostgresInstalled());
  postgresDataDir = await round(1, { produce: 30, expectCommittedBefore: 0 });
  await round(2, { produce: 5, expectCommittedBefore: 30 });
} catch (error) {
  failed = true;
  console.error(error);
  console.error(`logs kept in ${runDir}`);
} finally {
  await stopAll();
}
if (!failed) {
  rmSync(runDir, { recursive: true, force: true });
  // Postgres may have had to keep its data elsewhere (see startPostgres).
  if (postgresDataDir && !postgresDataDir.startsWith(runDir)) rmSync(postgresDataDir, { recursive: true, force: true });
}
console.log(`\nKafka ${KAFKA_VERSION}; timings (ms): ${JSON.stringify(timings)}`);
console.log(failed ? 'smoke: FAILED' : 'smoke: passed');
process.exit(failed ? 1 : 0);
