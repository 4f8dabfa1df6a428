import '../src/kafkajs-fixes';
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel, type Admin } from 'kafkajs';

// The run's real Kafka (scripts/test.mjs); testkit is not used here, as it depends on this package.
export const brokers = process.env.TEST_KAFKA_BROKERS ?? '';

/** An admin client on the run's broker, connected before the file's tests and closed after them. */
export function useTestAdmin(): () => Admin {
  let admin: Admin | undefined;
  before(async () => {
    assert.ok(brokers, 'TEST_KAFKA_BROKERS is unset: run integration tests through `npm test`');
    admin = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
  });
  after(() => admin?.disconnect());
  return () => admin!;
}
