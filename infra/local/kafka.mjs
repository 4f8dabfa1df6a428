// A real Apache Kafka broker in KRaft mode (combined broker and controller),
// from Maven Central jars, run with the machine's Java 17.
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { aptInstall, freePort, hasCommand, requireFromRepo, runChecked, spawnServer, stopLeftover, tail, waitFor } from './common.mjs';

export const KAFKA_VERSION = '3.9.1';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const pomFile = fileURLToPath(new URL('./kafka/pom.xml', import.meta.url));
const readOr = (file, fallback) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
};

function checkJava() {
  if (!hasCommand('java')) aptInstall(['openjdk-17-jre-headless'], 'Java 17+ is required for Kafka');
  const banner = runChecked('sh', ['-c', 'java -version 2>&1']);
  const version = banner.match(/version "(\d+)/)?.[1];
  if (!version || Number(version) < 17) {
    throw new Error(`Java 17+ is required for Kafka, found: ${banner.split('\n')[0]}; apt-get install openjdk-17-jre-headless`);
  }
}

/** Collects the broker's jars once into .local/kafka/<version>/libs; later calls return at once. */
export async function ensureKafkaInstalled({ root }) {
  const home = join(root, '.local', 'kafka', KAFKA_VERSION);
  const libsDir = join(home, 'libs');
  const marker = join(home, 'installed');
  // Editing the pom (another jar, a version bump) collects the jars again.
  const stamp = `${createHash('sha256').update(KAFKA_VERSION).update(readFileSync(pomFile)).digest('hex')}\n`;
  if (readOr(marker, '') === stamp && existsSync(libsDir)) return { libsDir };
  checkJava();
  if (!hasCommand('mvn')) aptInstall(['maven'], 'Maven is required to fetch Kafka from Maven Central');
  mkdirSync(home, { recursive: true });
  // Leftovers of interrupted runs (their process is gone).
  for (const entry of readdirSync(home)) {
    const pid = Number(entry.match(/^libs\.partial-(\d+)$/)?.[1]);
    if (pid && !existsSync(`/proc/${pid}`)) rmSync(join(home, entry), { recursive: true, force: true });
  }
  // Into a temporary folder first, so an interrupted run never looks complete.
  const partial = join(home, `libs.partial-${process.pid}`);
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  console.log(`[kafka] fetching Kafka ${KAFKA_VERSION} from Maven Central (once)…`);
  runChecked('mvn', [
    '-q',
    '-B',
    '--no-transfer-progress',
    '-f', pomFile,
    // A repository of the project's own: `rm -rf .local` resets everything.
    `-Dmaven.repo.local=${join(root, '.local', 'm2')}`,
    `-Dkafka.version=${KAFKA_VERSION}`,
    'dependency:copy-dependencies',
    `-DoutputDirectory=${partial}`,
    '-DincludeScope=runtime',
  ]);
  if (readOr(marker, '') === stamp && existsSync(libsDir)) {
    // A parallel run (npm start and npm test) finished first; a broker may use its jars.
    rmSync(partial, { recursive: true, force: true });
    return { libsDir };
  }
  rmSync(marker, { force: true });
  rmSync(libsDir, { recursive: true, force: true });
  renameSync(partial, libsDir);
  writeFileSync(marker, stamp);
  return { libsDir };
}

const OFFSETS_PARTITIONS = 10;

// One consumer group per __consumer_offsets partition (Kafka maps a group there by
// Java's String.hashCode), to check that every group coordinator is up.
const probeGroups = (() => {
  const byPartition = new Map();
  for (let i = 0; byPartition.size < OFFSETS_PARTITIONS; i++) {
    const groupId = `infra-ready-${i}`;
    let hash = 0;
    for (let j = 0; j < groupId.length; j++) hash = (Math.imul(31, hash) + groupId.charCodeAt(j)) | 0;
    const partition = Math.abs(hash) % OFFSETS_PARTITIONS;
    if (!byPartition.has(partition)) byPartition.set(partition, groupId);
  }
  return [...byPartition.values()];
})();

function serverProperties({ dataDir, port, controllerPort, advertisedPort = port }) {
  return `# Written by infra/local/kafka.mjs on every start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controllerPort}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${advertisedPort}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=${join(dataDir, 'logs')}
# One broker: every internal topic has one replica.
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=${OFFSETS_PARTITIONS}
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
# Topics are created explicitly, with their partition counts.
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
# Small segments and a week of retention keep a dev machine's disk in check.
log.segment.bytes=67108864
log.retention.hours=168
num.network.threads=2
num.io.threads=4
# The log cleaner allocates its dedupe buffer on the heap at start: 128 MiB by default, a quarter of this
# heap, kept live for good, so that G1 ran a concurrent mark every few seconds under load. The compacted
# topics here are small (consumer offsets, presence by user): 16 MiB maps about 600,000 keys per pass.
log.cleaner.dedupe.buffer.size=16777216
`;
}

const LOG4J = `log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.ConsoleAppender
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaServer=INFO
log4j.logger.kafka.server.KafkaRaftServer=INFO
`;

/** Stops a broker still running on `dataDir` from a run that did not shut it down (its Node parent was SIGKILLed). */
export async function stopLeftoverKafka(dataDir) {
  const configFile = join(dataDir, 'server.properties');
  const ours = (argv) => argv.includes('kafka.Kafka') && argv.includes(configFile);
  await stopLeftover(Number(readOr(join(dataDir, 'kafka.pid'), '')), ours, 'SIGTERM');
}

/**
 * Starts the broker and waits until it answers metadata requests and group
 * coordination (consumers, offset fetches) works. Storage is
 * formatted on first use only, so data survives restarts. Ports default to
 * free ephemeral ones (tests).
 *
 * `advertisedPort`: the port the broker tells clients to connect to, instead of its own: a fault proxy's
 * (packages/testkit/src/fault-proxy.ts), listening already and forwarding to `port`, so that every connection after
 * the bootstrap goes through it. `brokers` is then the proxy's address.
 */
export async function startKafka({ root, dataDir, port, controllerPort, advertisedPort, logFile, heapMb = 512 }) {
  const { libsDir } = await ensureKafkaInstalled({ root });
  port ||= await freePort();
  controllerPort ||= await freePort();
  mkdirSync(dataDir, { recursive: true });
  logFile ??= join(dataDir, 'kafka.log');
  mkdirSync(dirname(logFile), { recursive: true });
  const configFile = join(dataDir, 'server.properties');
  const log4jFile = join(dataDir, 'log4j.properties');
  const pidFile = join(dataDir, 'kafka.pid');
  await stopLeftoverKafka(dataDir);
  writeFileSync(configFile, serverProperties({ dataDir, port, controllerPort, advertisedPort }));
  writeFileSync(log4jFile, LOG4J);
  const classpath = `${libsDir}/*`;
  const jvm = [`-Xms${Math.min(256, heapMb)}m`, `-Xmx${heapMb}m`, '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-Djava.awt.headless=true', `-Dlog4j.configuration=file:${log4jFile}`];

  if (!existsSync(join(dataDir, 'logs', 'meta.properties'))) {
    // Kafka cluster ids are 16 random bytes in URL-safe base64, as `kafka-storage random-uuid`
    // makes them; like it, avoid a leading '-' that the argument parser would take for an option.
    let clusterId;
    do clusterId = randomBytes(16).toString('base64url');
    while (clusterId.startsWith('-'));
    runChecked('java', [...jvm, '-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', configFile, '--ignore-formatted']);
  }
  const logFd = openSync(logFile, 'a');
  const server = spawnServer('java', [...jvm, '-cp', classpath, 'kafka.Kafka', configFile], { logFd, env: process.env });
  closeSync(logFd);
  writeFileSync(pidFile, `${server.child.pid}\n`);
  const brokers = `127.0.0.1:${advertisedPort ?? port}`;
  const { Kafka, logLevel } = await kafkajs(root);
  const kafka = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  const admin = kafka.admin();
  try {
    await waitFor(
      `Kafka at ${brokers}`,
      async () => {
        await admin.connect();
        const { brokers: live } = await admin.describeCluster();
        if (live.length === 0) return false;
        // A broker answers metadata before __consumer_offsets exists (the first FindCoordinator
        // creates it) and is loaded; a consumer or offset fetch right then fails with
        // NOT_COORDINATOR. Fetching offsets of unknown groups creates nothing.
        await Promise.all(probeGroups.map((groupId) => admin.fetchOffsets({ groupId })));
        // Likewise the first producer id comes from a block the broker must first get from
        // the controller ("coordinator is loading" until then): get that done here.
        const producer = kafka.producer({ idempotent: true, retry: { retries: 1, initialRetryTime: 100 } });
        try {
          await producer.connect();
        } finally {
          await producer.disconnect();
        }
        return true;
      },
      { timeoutMs: 90_000, isDead: () => server.isDead() && `${server.isDead()}\n${tail(logFile)}` },
    );
  } catch (error) {
    await server.stop();
    throw error;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  return { brokers, port, controllerPort, pid: server.child.pid, stop: () => server.stop() };
}

/**
 * kafkajs from the repo's node_modules with the services' fixes to it applied (packages/kafka/src/kafkajs-fixes.ts,
 * loaded by Node 24's type stripping): without them every admin client here would spin a 1 ms timer per connection.
 */
async function kafkajs(root) {
  await import('../../packages/kafka/src/kafkajs-fixes.ts');
  return requireFromRepo(root, 'kafkajs');
}

/** Creates topics that are missing (existing ones are left as they are) and waits for their leaders. */
export async function createTopics({ root = repoRoot, brokers, topics }) {
  const { Kafka, logLevel } = await kafkajs(root);
  const admin = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter(({ topic }) => !existing.has(topic));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map(({ topic, numPartitions, configs = {} }) => ({
          topic,
          numPartitions,
          replicationFactor: 1,
          configEntries: Object.entries(configs).map(([name, value]) => ({ name, value: String(value) })),
        })),
      });
    }
    return missing.map(({ topic }) => topic);
  } finally {
    await admin.disconnect();
  }
}
