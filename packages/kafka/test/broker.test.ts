import '../src/kafkajs-fixes';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { useTestAdmin } from './test-admin';

// The run's broker is started as `npm start` and the benchmarks start theirs (infra/local/kafka.mjs).
const { ConfigResourceTypes } = kafkajs;
const testAdmin = useTestAdmin();

test('the local broker keeps the log cleaner dedupe buffer to 16 MiB of its heap, not the default 128 MiB', async () => {
  const admin = testAdmin();
  const { brokers: [broker] } = await admin.describeCluster();
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.BROKER, name: String(broker!.nodeId), configNames: ['log.cleaner.dedupe.buffer.size'] }],
  });
  assert.equal(resources[0]!.configEntries[0]?.configValue, String(16 * 1024 * 1024));
});
