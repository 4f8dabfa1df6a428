// A real Apache Kafka broker in KRaft mode (combined broker and controller),
// from Maven Central jars, run with the machine's Java 17.
import { existsSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { freePort, hasCommand, requireFromRepo, runChecked, spawnServer, tail, waitFor } from './common.mjs';

export const KAFKA_VERSION = '3.9.1';

function checkJava() {
  if (!hasCommand('java')) throw new Error('Java 17+ is required for Kafka: apt-get install openjdk-17-jre-headless');
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
  if (existsSync(join(home, 'installed'))) return { libsDir };
  checkJava();
  if (!hasCommand('mvn')) throw new Error('Maven is required to fetch Kafka from Maven Central: apt-get install maven');
  // Into a temporary folder first, so an interrupted run never looks complete.
  const partial = join(home, `libs.partial-${process.pid}`);
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  console.log(`[kafka] fetching Kafka ${KAFKA_VERSION} from Maven Central (once)…`);
  runChecked('mvn', [
    '-q',
    '-B',
    '-f', join(root, 'infra', 'local', 'kafka', 'pom.xml'),
    `-Dmaven.repo.local=${join(root, '.local', 'm2')}`,
    'dependency:copy-dependencies',
    `-DoutputDirectory=${partial}`,
    '-DincludeScope=runtime',
  ]);
  rmSync(libsDir, { recursive: true, force: true });
  renameSync(partial, libsDir);
  writeFileSync(join(home, 'installed'), `${new Date().toISOString()}\n`);
  return { libsDir };
}

function serverProperties({ dataDir, port, controllerPort }) {
  return `# Written by infra/local/kafka.mjs on every start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controllerPort}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=${join(dataDir, 'logs')}
# One broker: every internal topic has one replica.
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
# Topics are created explicitly, with their partition counts.
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
# Small segments and a week of retention keep a dev machine's disk in check.
log.segment.bytes=67108864
log.retention.hours=168
num.network.threads=2
num.io.threads=4
`;
}

const LOG4J = `log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.ConsoleAppender
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaServer=INFO
log4j.logger.kafka.server.KafkaRaftServer=INFO
`;

/**
 * Starts the broker and waits until it answers a metadata request. Storage is
 * formatted on first use only, so data survives restarts. Ports default to
 * free ephemeral ones (tests).
 */
export async function startKafka({ root, dataDir, port, controllerPort, logFile, heapMb = 512 }) {
  const { libsDir } = await ensureKafkaInstalled({ root });
  port ||= await freePort();
  controllerPort ||= await freePort();
  mkdirSync(dataDir, { recursive: true });
  const configFile = join(dataDir, 'server.properties');
  const log4jFile = join(dataDir, 'log4j.properties');
  writeFileSync(configFile, serverProperties({ dataDir, port, controllerPort }));
  writeFileSync(log4jFile, LOG4J);
  const classpath = `${libsDir}/*`;
  const jvm = [`-Xms${Math.min(256, heapMb)}m`, `-Xmx${heapMb}m`, '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-Djava.awt.headless=true', `-Dlog4j.configuration=file:${log4jFile}`];

  if (!existsSync(join(dataDir, 'logs', 'meta.properties'))) {
    runChecked('java', [...jvm, '-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', randomUUID(), '-c', configFile, '--ignore-formatted']);
  }
  const logFd = openSync(logFile ?? join(dataDir, 'kafka.log'), 'a');
  const server = spawnServer('java', [...jvm, '-cp', classpath, 'kafka.Kafka', configFile], { logFd, env: process.env });
  closeSync(logFd);
  const brokers = `127.0.0.1:${port}`;
  const { Kafka, logLevel } = requireFromRepo(root, 'kafkajs');
  const admin = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
  try {
    await waitFor(
      `Kafka at ${brokers}`,
      async () => {
        await admin.connect();
        const { brokers: live } = await admin.describeCluster();
        return live.length > 0;
      },
      { timeoutMs: 90_000, isDead: () => server.isDead() && `${server.isDead()}\n${tail(logFile ?? join(dataDir, 'kafka.log'))}` },
    );
  } catch (error) {
    await server.stop();
    throw error;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  return { brokers, port, controllerPort, pid: server.child.pid, stop: () => server.stop() };
}

/** Creates topics that are missing (existing ones are left as they are) and waits for their leaders. */
export async function createTopics({ root = process.cwd(), brokers, topics }) {
  const { Kafka, logLevel } = requireFromRepo(root, 'kafkajs');
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
