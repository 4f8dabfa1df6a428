// A throwaway Kafka and Postgres on free ports, for `npm test` and benchmarks:
// they can run while the `npm start` stack is up.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureKafkaInstalled, startKafka } from './kafka.mjs';
import { ensurePostgresInstalled, startPostgres } from './postgres.mjs';

/**
 * Starts both under .local/<kind>-runs/<pid>/ (the broker's data under `kafkaDataDir` when given);
 * `stop()` shuts them down and deletes the data.
 */
export async function startEphemeralInfra({ root, kind, kafkaDataDir }) {
  const runDir = join(root, '.local', `${kind}-runs`, String(process.pid));
  kafkaDataDir ??= join(runDir, 'kafka');
  for (const dir of [runDir, kafkaDataDir]) rmSync(dir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true });
  await Promise.all([ensureKafkaInstalled({ root }), ensurePostgresInstalled()]);
  const [kafka, postgres] = await Promise.all([
    startKafka({ root, dataDir: kafkaDataDir, logFile: join(runDir, 'kafka.log') }),
    startPostgres({ root, dataDir: join(runDir, 'postgres'), logFile: join(runDir, 'postgres.log') }),
  ]);
  return {
    kafkaBrokers: kafka.brokers,
    databaseUrl: postgres.url,
    /** The broker's JVM and the postmaster (whose children are the backends), for CPU accounting. */
    kafkaPid: kafka.pid,
    postgresPid: postgres.pid,
    async stop() {
      await Promise.allSettled([kafka.stop(), postgres.stop()]);
      for (const dir of [runDir, kafkaDataDir]) rmSync(dir, { recursive: true, force: true });
    },
  };
}
