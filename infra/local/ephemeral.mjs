// A throwaway Kafka and Postgres on free ports, for `npm test` and benchmarks:
// they can run while the `npm start` stack is up.
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive } from './common.mjs';
import { ensureKafkaInstalled, startKafkaCluster, stopLeftoverKafka } from './kafka.mjs';
import { clearStaleLock, ensurePostgresInstalled, postgresDataLocations, startPostgres } from './postgres.mjs';

/** Where the broker's log goes with `kafkaInMemory`: a tmpfs, so it is memory until removed. */
const MEMORY_DIR = '/dev/shm';
export const canKeepKafkaInMemory = () => existsSync(MEMORY_DIR);

/**
 * Removes the `<prefix><pid>` entries of `dir` whose run is gone, after stopping what still runs on them: a run killed
 * outright neither stops its broker and Postgres nor deletes their data.
 */
async function removeStaleRuns(dir, prefix, stopLeftovers) {
  for (const entry of existsSync(dir) ? readdirSync(dir) : []) {
    const pid = entry.startsWith(prefix) ? Number(entry.slice(prefix.length)) : NaN;
    if (!Number.isInteger(pid) || isAlive(pid)) continue;
    await stopLeftovers(join(dir, entry));
    rmSync(join(dir, entry), { recursive: true, force: true });
  }
}

const runsDirOf = (root, kind) => join(root, '.local', `${kind}-runs`);
const memoryPrefixOf = (kind) => `chat-${kind}-kafka-`;

/**
 * Stops the brokers and Postgres servers that killed runs of this kind left running, and deletes their data. Returns
 * once those servers have exited (fast shutdown, SIGKILL past its grace: `stopLeftover`), so that their ports and
 * data are free.
 */
export async function clearKilledRuns({ root, kind }) {
  await removeStaleRuns(runsDirOf(root, kind), '', async (run) => {
    const postgresData = postgresDataLocations(join(run, 'postgres'));
    await Promise.all([stopLeftoverKafka(join(run, 'kafka')), ...postgresData.map(clearStaleLock)]);
    for (const dir of postgresData) rmSync(dir, { recursive: true, force: true });
  });
  await removeStaleRuns(MEMORY_DIR, memoryPrefixOf(kind), stopLeftoverKafka);
}

/**
 * Starts both under .local/<kind>-runs/<pid>/, the broker's data in memory instead with `kafkaInMemory`;
 * `stop()` shuts them down and deletes the data. What killed runs of the same kind left is stopped and removed first.
 * `brokers: 3` starts a cluster of three (replication factor 3, two in sync for a write) instead of one broker;
 * `kafka` and `postgres` are the servers' own handles, for fault tests that stop, kill or pause them; `kafkaPorts`
 * are the nodes' ports where given (startKafkaCluster's `ports`: a fault test's lanes).
 */
export async function startEphemeralInfra({ root, kind, kafkaInMemory = false, brokers = 1, kafkaHeapMb, kafkaPorts }) {
  await clearKilledRuns({ root, kind });
  const runDir = join(runsDirOf(root, kind), String(process.pid));
  const kafkaDataDir = kafkaInMemory ? join(MEMORY_DIR, `${memoryPrefixOf(kind)}${process.pid}`) : join(runDir, 'kafka');
  const dataDirs = [runDir, kafkaDataDir];
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true });
  await Promise.all([ensureKafkaInstalled({ root }), ensurePostgresInstalled()]);
  const kafkaLogs = brokers === 1 ? { kafka: join(runDir, 'kafka.log') } : Object.fromEntries(Array.from({ length: brokers }, (_, i) => [`kafka-${i + 1}`, join(runDir, `kafka-${i + 1}.log`)]));
  const logFiles = { ...kafkaLogs, postgres: join(runDir, 'postgres.log') };
  const [kafka, postgres] = await Promise.all([
    startKafkaCluster({ root, dataDir: kafkaDataDir, size: brokers, ports: kafkaPorts, logFiles: Object.values(kafkaLogs), heapMb: kafkaHeapMb }),
    startPostgres({ root, dataDir: join(runDir, 'postgres'), logFile: logFiles.postgres }),
  ]);
  // Postgres keeps its data outside the run's folder when its account cannot reach it (postgresDataLocations).
  if (!postgres.dataDir.startsWith(`${runDir}/`)) dataDirs.push(postgres.dataDir);
  return {
    kafkaBrokers: kafka.brokers,
    databaseUrl: postgres.url,
    /** The broker's JVM and the postmaster (whose children are the backends), for CPU accounting. */
    kafkaPid: kafka.nodes[0].pid(),
    postgresPid: postgres.pid,
    kafka,
    postgres,
    /** Everything of this run's on disk and in memory: deleted by `stop()`. */
    dataDirs,
    /** The servers' logs, and a folder for the logs of what runs on them; inside the run's folder, deleted by `stop()`. */
    logFiles,
    logDir: join(runDir, 'logs'),
    /** Returns once both servers have exited and their data is deleted; throws if either would not exit. */
    async stop() {
      const stopped = await Promise.allSettled([kafka.stop(), postgres.stop()]);
      for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
      const failed = stopped.filter((result) => result.status === 'rejected').map((result) => result.reason);
      if (failed.length > 0) throw new AggregateError(failed, 'test infrastructure did not stop');
    },
  };
}
