import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Kafka, logLevel } from 'kafkajs';
import { createPool, migrate, type Pool } from '@chat/db';
import { createLogger } from '@chat/runtime';
import { topicNames, type TopicNames } from '@chat/kafka';

/** The real Kafka and Postgres that `npm test` started for this run (scripts/test.mjs). */
export function testInfra(): { kafkaBrokers: string[]; adminDatabaseUrl: string } {
  const brokers = process.env.TEST_KAFKA_BROKERS;
  const adminDatabaseUrl = process.env.TEST_DATABASE_URL;
  if (!brokers || !adminDatabaseUrl) {
    throw new Error('TEST_KAFKA_BROKERS and TEST_DATABASE_URL are unset: run integration tests through `npm test`');
  }
  return { kafkaBrokers: brokers.split(','), adminDatabaseUrl };
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

export interface TestDatabase {
  name: string;
  url: string;
  pool: Pool;
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database of its own, so tests never see each other's rows.
 * `migrated: false` leaves it empty, for tests of the migration command itself.
 */
export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const { adminDatabaseUrl } = testInfra();
  const name = uniqueName('test');
  const admin = new pg.Client({ connectionString: adminDatabaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminDatabaseUrl);
  url.pathname = `/${name}`;
  const pool = createPool(url.toString(), createLogger('test', 'error'), { max: 5 });
  if (options.migrated !== false) await migrate(pool);
  return {
    name,
    url: url.toString(),
    pool,
    async drop() {
      await pool.end();
      const client = new pg.Client({ connectionString: adminDatabaseUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export interface TestTopics {
  prefix: string;
  names: TopicNames;
}

/** All topics under a prefix of their own; the presence topic is compacted, as in a real install. */
export async function createTestTopics(partitions = 3): Promise<TestTopics> {
  const prefix = `${uniqueName('t')}.`;
  const names = topicNames(prefix);
  const admin = new Kafka({ brokers: testInfra().kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [names.messages, names.events, names.heartbeats, names.presence, names.deadLetters].map((topic) => ({
        topic,
        numPartitions: partitions,
        replicationFactor: 1,
        configEntries: topic === names.presence ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
      })),
    });
  } finally {
    await admin.disconnect();
  }
  return { prefix, names };
}
