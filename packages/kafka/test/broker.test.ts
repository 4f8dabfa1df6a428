import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs, { Kafka, logLevel, type Admin } from 'kafkajs';

// The run's real Kafka (scripts/test.mjs), started as `npm start` and the benchmarks start theirs (infra/local/kafka.mjs).
const brokers = process.env.TEST_KAFKA_BROKERS ?? '';
const { ConfigResourceTypes } = kafkajs;
let admin: Admin;

before(async () => {
  assert.ok(brokers, 'TEST_KAFKA_BROKERS is unset: run integration tests through `npm test`');
  admin = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
});
after(() => admin.disconnect());

test('the local broker keeps the log cleaner dedupe buffer to 16 MiB of its heap, not the default 128 MiB', async () => {
  const { brokers: [broker] } = await admin.describeCluster();
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.BROKER, name: String(broker!.nodeId), configNames: ['log.cleaner.dedupe.buffer.size'] }],
  });
  assert.equal(resources[0]!.configEntries[0]?.configValue, String(16 * 1024 * 1024));
});
