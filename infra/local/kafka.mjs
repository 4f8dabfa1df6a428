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

/**
 * One node's config. Every node is broker and controller (combined KRaft). Clients connect to the CLIENT listener,
 * which a node may advertise at another port (`advertisedPort`: a fault proxy in front of it); brokers replicate over
 * INTERNAL, which stays direct, and which a test's own observer can bootstrap from to see the cluster unproxied
 * (Kafka answers metadata with the addresses of the listener a request came in on). `ports.lanes` adds client
 * listeners of their own, each advertised at its own port: a fault test gives every service a lane with a proxy in
 * front of each node, so that one service can be cut from Kafka while the others still reach it.
 */
function serverProperties({ dataDir, nodeId, ports, voters, size }) {
  const replicas = Math.min(3, size);
  const minInsync = size >= 3 ? 2 : 1;
  const lanes = ports.lanes ?? [];
  const listeners = [`CLIENT://127.0.0.1:${ports.client}`, ...lanes.map((lane) => `${lane.name}://127.0.0.1:${lane.port}`)];
  const advertised = [`CLIENT://127.0.0.1:${ports.advertised ?? ports.client}`, ...lanes.map((lane) => `${lane.name}://127.0.0.1:${lane.advertised}`)];
  const protocols = ['CLIENT', ...lanes.map((lane) => lane.name), 'INTERNAL', 'CONTROLLER'].map((name) => `${name}:PLAINTEXT`);
  return `# Written by infra/local/kafka.mjs on every start.
process.roles=broker,controller
node.id=${nodeId}
controller.quorum.voters=${voters}
listeners=${listeners.join(',')},INTERNAL://127.0.0.1:${ports.internal},CONTROLLER://127.0.0.1:${ports.controller}
advertised.listeners=${advertised.join(',')},INTERNAL://127.0.0.1:${ports.internal}
listener.security.protocol.map=${protocols.join(',')}
controller.listener.names=CONTROLLER
inter.broker.listener.name=INTERNAL
log.dirs=${join(dataDir, 'logs')}
# ${size === 1 ? 'One broker: every internal topic has one replica.' : `${size} brokers: ${replicas} replicas, ${minInsync} in sync for a write, no unclean leader election.`}
num.partitions=1
default.replication.factor=${replicas}
min.insync.replicas=${minInsync}
unclean.leader.election.enable=false
offsets.topic.replication.factor=${replicas}
offsets.topic.num.partitions=${OFFSETS_PARTITIONS}
transaction.state.log.replication.factor=${replicas}
transaction.state.log.min.isr=${minInsync}
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
# Rebalances (a member joining, failing, the group stabilizing): what a slow group join is read from.
log4j.logger.kafka.coordinator.group.GroupCoordinator=INFO
`;

/** A cluster's nodes live in `node-<id>` folders of its data folder; a single broker directly in it. */
const nodeDirsOf = (dataDir) => [dataDir, ...(existsSync(dataDir) ? readdirSync(dataDir).filter((entry) => /^node-\d+$/.test(entry)).map((entry) => join(dataDir, entry)) : [])];

/** Stops the brokers still running on `dataDir` from a run that did not shut them down (its Node parent was SIGKILLed). */
export async function stopLeftoverKafka(dataDir) {
  await Promise.all(
    nodeDirsOf(dataDir).map(async (dir) => {
      const configFile = join(dir, 'server.properties');
      const pid = Number(readOr(join(dir, 'kafka.pid'), ''));
      const ours = (argv) => argv.includes('kafka.Kafka') && argv.includes(configFile);
      // A paused broker (a fault test's SIGSTOP) would never see the SIGTERM.
      if (pid > 0) signalQuietly(pid, 'SIGCONT');
      await stopLeftover(pid, ours, 'SIGTERM');
    }),
  );
}

function signalQuietly(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {
    // Gone already, or not ours to signal: stopLeftover decides.
  }
}

/** Kafka cluster ids are 16 random bytes in URL-safe base64, as `kafka-storage random-uuid` makes them. */
function newClusterId() {
  // Like it, avoid a leading '-' that the argument parser would take for an option.
  let clusterId;
  do clusterId = randomBytes(16).toString('base64url');
  while (clusterId.startsWith('-'));
  return clusterId;
}

/**
 * Starts a single broker (see `startKafkaCluster`); ports default to free ephemeral ones (tests).
 * `port` is the client port, `controllerPort` the KRaft controller's.
 */
export async function startKafka({ root, dataDir, port, controllerPort, logFile, heapMb = 512, advertisedPort }) {
  const cluster = await startKafkaCluster({ root, dataDir, size: 1, ports: [{ client: port, controller: controllerPort, advertised: advertisedPort }], logFiles: logFile && [logFile], heapMb });
  const [node] = cluster.nodes;
  return { brokers: cluster.brokers, port: node.ports.client, controllerPort: node.ports.controller, pid: node.pid(), node, stop: () => cluster.stop() };
}

/**
 * Starts `size` combined broker-and-controller nodes and waits until the cluster answers metadata with all of them
 * and group coordination (consumers, offset fetches) works. A single node keeps its data in `dataDir`, a cluster's
 * nodes in `dataDir/node-<id>`. Storage is formatted on first use only, so data survives restarts. Ports default to
 * free ephemeral ones (tests) and stay the same across a node's restarts.
 *
 * `nodes[i]` controls one node for fault tests: `kill()` (SIGKILL), `pause()` / `resume()` (SIGSTOP / SIGCONT),
 * `stop()` (clean shutdown) and `start()` again on the same ports and data.
 */
export async function startKafkaCluster({ root, dataDir, size = 3, ports = [], logFiles, heapMb = 512 }) {
  const { libsDir } = await ensureKafkaInstalled({ root });
  const nodeDirs = size === 1 ? [dataDir] : Array.from({ length: size }, (_, i) => join(dataDir, `node-${i + 1}`));
  const nodePorts = [];
  for (let i = 0; i < size; i++) {
    const given = ports[i] ?? {};
    nodePorts.push({
      client: given.client || (await freePort()),
      internal: given.internal || (await freePort()),
      controller: given.controller || (await freePort()),
      advertised: given.advertised,
      lanes: given.lanes,
    });
  }
  const voters = nodePorts.map((p, i) => `${i + 1}@127.0.0.1:${p.controller}`).join(',');
  const classpath = `${libsDir}/*`;
  const jvm = [`-Xms${Math.min(256, heapMb)}m`, `-Xmx${heapMb}m`, '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-Djava.awt.headless=true'];
  // One cluster id for every node; a node formatted before keeps its own (they were formatted together).
  const clusterId = newClusterId();
  const nodes = nodeDirs.map((dir, i) => {
    const nodeId = i + 1;
    const configFile = join(dir, 'server.properties');
    const log4jFile = join(dir, 'log4j.properties');
    const logFile = logFiles?.[i] ?? join(dir, 'kafka.log');
    const nodeJvm = [...jvm, `-Dlog4j.configuration=file:${log4jFile}`];
    let server;
    const node = {
      id: nodeId,
      ports: nodePorts[i],
      logFile,
      pid: () => server?.child.pid,
      isRunning: () => server !== undefined && !server.isDead(),
      async start() {
        if (node.isRunning()) return;
        mkdirSync(dir, { recursive: true });
        mkdirSync(dirname(logFile), { recursive: true });
        await stopLeftoverKafka(dir);
        writeFileSync(configFile, serverProperties({ dataDir: dir, nodeId, ports: nodePorts[i], voters, size }));
        writeFileSync(log4jFile, LOG4J);
        if (!existsSync(join(dir, 'logs', 'meta.properties'))) {
          runChecked('java', [...nodeJvm, '-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', configFile, '--ignore-formatted']);
        }
        const logFd = openSync(logFile, 'a');
        server = spawnServer('java', [...nodeJvm, '-cp', classpath, 'kafka.Kafka', configFile], { logFd, env: process.env });
        closeSync(logFd);
        writeFileSync(join(dir, 'kafka.pid'), `${server.child.pid}\n`);
      },
      /** A clean shutdown (SIGTERM, SIGKILL past its grace); a paused node is resumed first so that it can. */
      async stop() {
        if (!server) return;
        if (!server.isDead()) signalQuietly(server.child.pid, 'SIGCONT');
        await server.stop();
      },
      /** A crash: SIGKILL, returning once the process is gone. */
      async kill() {
        if (!server || server.isDead()) return;
        server.child.kill('SIGKILL');
        await waitFor(`broker ${nodeId} to exit`, () => Boolean(server.isDead()), { timeoutMs: 10_000, intervalMs: 20 });
      },
      pause: () => server && !server.isDead() && server.child.kill('SIGSTOP'),
      resume: () => server && !server.isDead() && server.child.kill('SIGCONT'),
    };
    return node;
  });
  const clientBrokers = nodePorts.map((p) => `127.0.0.1:${p.advertised ?? p.client}`).join(',');
  const cluster = {
    /** What services bootstrap from: the client listeners, at their advertised ports. */
    brokers: clientBrokers,
    /** The internal listeners: for a test's observer, past any fault proxy. */
    directBrokers: nodePorts.map((p) => `127.0.0.1:${p.internal}`).join(','),
    /** What a service on lane `name` bootstraps from: the lane's advertised port on every node. */
    laneBrokers: (name) => nodePorts.map((p) => `127.0.0.1:${p.lanes?.find((lane) => lane.name === name)?.advertised ?? p.advertised ?? p.client}`).join(','),
    nodes,
    /** Waits until every node is in the cluster's metadata and coordination works (after a start or a restart). */
    waitReady: (timeoutMs = 120_000) => waitClusterReady(root, cluster, timeoutMs),
    async stop() {
      const stopped = await Promise.allSettled(nodes.map((node) => node.stop()));
      const failed = stopped.filter((result) => result.status === 'rejected').map((result) => result.reason);
      if (failed.length > 0) throw new AggregateError(failed, 'Kafka did not stop');
    },
  };
  try {
    await Promise.all(nodes.map((node) => node.start()));
    await cluster.waitReady();
  } catch (error) {
    await cluster.stop().catch(() => undefined);
    throw error;
  }
  return cluster;
}

async function waitClusterReady(root, cluster, timeoutMs) {
  const { Kafka, logLevel } = await kafkajs(root);
  const kafka = new Kafka({ brokers: cluster.directBrokers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  const admin = kafka.admin();
  const dead = () => {
    const node = cluster.nodes.find((n) => !n.isRunning());
    return node && `broker ${node.id} is not running\n${tail(node.logFile)}`;
  };
  try {
    await waitFor(
      `Kafka at ${cluster.brokers}`,
      async () => {
        await admin.connect();
        const { brokers: live } = await admin.describeCluster();
        if (live.length < cluster.nodes.length) return false;
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
      { timeoutMs, isDead: dead },
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
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
export async function createTopics({ root = repoRoot, brokers, topics, replicationFactor = 1 }) {
  const { Kafka, logLevel } = await kafkajs(root);
  const admin = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin();
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
          replicationFactor,
          configEntries: Object.entries(configs).map(([name, value]) => ({ name, value: String(value) })),
        })),
      });
    }
    return missing.map(({ topic }) => topic);
  } finally {
    await admin.disconnect();
  }
}
