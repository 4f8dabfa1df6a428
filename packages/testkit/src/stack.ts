import { createTestDatabase, createTestTopics, testInfra, type TestDatabase, type TestTopics } from './infra';
import { startService, type RunningService } from './processes';

export interface TestStack {
  db: TestDatabase;
  topics: TestTopics;
  gateways: RunningService[];
  messaging: RunningService;
  /** Started when asked for (`presence: true`). */
  presence?: RunningService;
  /** The environment the services run with; pass it to start more of them. */
  env: Record<string, string>;
  startMessaging(): Promise<RunningService>;
  startPresence(): Promise<RunningService>;
  stop(): Promise<void>;
}

/** What a service needs to run on this run's Kafka and Postgres and see only this database and these topics. */
export function isolatedServiceEnv(db: TestDatabase, topics: TestTopics): Record<string, string> {
  return {
    DATABASE_URL: db.url,
    KAFKA_BROKERS: testInfra().kafkaBrokers.join(','),
    KAFKA_TOPIC_PREFIX: topics.prefix,
    MESSAGING_CONSUMER_GROUP: `${topics.prefix}messaging`,
    PRESENCE_CONSUMER_GROUP: `${topics.prefix}presence`,
  };
}

/**
 * A whole backend of its own for one test file: a fresh database and topics,
 * N gateways and one messaging process, all real processes on real Kafka and
 * Postgres.
 */
export async function startTestStack(
  options: { gateways?: number; presence?: boolean; env?: Record<string, string> } = {},
): Promise<TestStack> {
  const [db, topics] = await Promise.all([createTestDatabase(), createTestTopics()]);
  const env = { ...isolatedServiceEnv(db, topics), JWT_SECRET: 'test-secret-0123456789abcdef0123456789', ...options.env };
  const running: RunningService[] = [];
  const track = (service: RunningService) => {
    running.push(service);
    return service;
  };
  try {
    const gateways = await Promise.all(
      Array.from({ length: options.gateways ?? 1 }, (_, i) => startService('gateway', { ...env, INSTANCE_ID: `${topics.prefix}gw${i}` }).then(track)),
    );
    const messaging = track(await startService('messaging', env));
    const presence = options.presence ? track(await startService('presence', env)) : undefined;
    return {
      db,
      topics,
      gateways,
      messaging,
      presence,
      env,
      startMessaging: async () => track(await startService('messaging', env)),
      startPresence: async () => track(await startService('presence', env)),
      async stop() {
        await Promise.all(running.map((service) => service.kill()));
        await db.drop();
      },
    };
  } catch (error) {
    await Promise.all(running.map((service) => service.kill()));
    await db.drop();
    throw error;
  }
}
