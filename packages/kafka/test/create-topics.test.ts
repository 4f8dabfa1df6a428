import '../src/kafkajs-fixes';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import { randomBytes } from 'node:crypto';
import { topicNames } from '../src/topics';
import { brokers, useTestAdmin } from './test-admin';

const uniquePrefix = () => `cli_${randomBytes(5).toString('hex')}.`;
const { ConfigResourceTypes } = kafkajs;
const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const testAdmin = useTestAdmin();

/** Runs the CLI as the Helm hook Job does: configured by environment only. */
function createTopics(env: Record<string, string>): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', cli],
      { env: { ...process.env, KAFKA_BROKERS: brokers, LOG_LEVEL: 'info', ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
    );
  });
}

async function topicConfigs(topic: string): Promise<Record<string, string>> {
  const { resources } = await testAdmin().describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }] });
  return Object.fromEntries(resources[0]!.configEntries.map(({ configName, configValue }) => [configName, configValue]));
}

test('create-topics creates every topic with its partitions and configs, and a re-run applies changed settings', async () => {
  const prefix = uniquePrefix();
  const names = topicNames(prefix);
  const first = await createTopics({ KAFKA_TOPIC_PREFIX: prefix, TOPIC_PARTITIONS: '4', TOPIC_EVENTS_RETENTION_MS: '7200000' });
  assert.equal(first.code, 0, first.output);

  const { topics } = await testAdmin().fetchTopicMetadata({ topics: Object.values(names) });
  assert.deepEqual(topics.map(({ name, partitions }) => [name, partitions.length]).sort(), Object.values(names).map((name) => [name, 4]).sort());
  assert.equal((await topicConfigs(names.messages))['retention.ms'], String(7 * 24 * 3600 * 1000));
  assert.equal((await topicConfigs(names.events))['retention.ms'], '7200000');
  assert.equal((await topicConfigs(names.heartbeats))['retention.ms'], '3600000');
  assert.equal((await topicConfigs(names.presence))['cleanup.policy'], 'compact');
  assert.equal((await topicConfigs(names.deadLetters))['retention.ms'], String(30 * 24 * 3600 * 1000));
  assert.equal((await topicConfigs(names.messages))['min.insync.replicas'], '1');

  // The upgrade hook runs it again with new values: nothing is recreated, configs follow.
  const second = await createTopics({ KAFKA_TOPIC_PREFIX: prefix, TOPIC_PARTITIONS: '4', TOPIC_EVENTS_RETENTION_MS: '3600000' });
  assert.equal(second.code, 0, second.output);
  assert.match(second.output, /"created":\[\]/);
  assert.equal((await topicConfigs(names.events))['retention.ms'], '3600000');
});

test('create-topics refuses to add partitions to existing topics and says why', async () => {
  const prefix = uniquePrefix();
  assert.equal((await createTopics({ KAFKA_TOPIC_PREFIX: prefix, TOPIC_PARTITIONS: '2' })).code, 0);
  const more = await createTopics({ KAFKA_TOPIC_PREFIX: prefix, TOPIC_PARTITIONS: '3' });
  assert.equal(more.code, 1);
  assert.match(more.output, new RegExp(`${prefix.replace('.', '\\.')}chat\\.messages has 2 partitions, 3 wanted`));
  assert.match(more.output, /Adding partitions moves rooms/);
  const { topics } = await testAdmin().fetchTopicMetadata({ topics: [topicNames(prefix).messages] });
  assert.equal(topics[0]?.partitions.length, 2);
});

test('create-topics with a bad setting exits non-zero naming the variable, before touching Kafka', async () => {
  const bad = await createTopics({ TOPIC_PARTITIONS: 'many' });
  assert.notEqual(bad.code, 0);
  assert.match(bad.output, /TOPIC_PARTITIONS must be an integer/);
});

test("a re-run keeps the configs an operator set on a topic that the platform does not manage", async () => {
  const prefix = uniquePrefix();
  const names = topicNames(prefix);
  assert.equal((await createTopics({ KAFKA_TOPIC_PREFIX: prefix, TOPIC_PARTITIONS: '2' })).code, 0);
  // What an operator does with kafka-configs.sh --alter --add-config: the topic's other overrides stay.
  const current = Object.entries(await topicOverrides(names.events)).map(([name, value]) => ({ name, value }));
  await testAdmin().alterConfigs({
    validateOnly: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: names.events, configEntries: [...current, { name: 'segment.bytes', value: '10485760' }] }],
  });

  const rerun = await createTopics({ KAFKA_TOPIC_PREFIX: prefix, TOPIC_PARTITIONS: '2', TOPIC_EVENTS_RETENTION_MS: '5400000' });
  assert.equal(rerun.code, 0, rerun.output);
  const after = await topicOverrides(names.events);
  assert.equal(after['segment.bytes'], '10485760', 'the operator’s override survives the upgrade');
  assert.equal(after['retention.ms'], '5400000', 'the platform’s own setting follows the new value');
  assert.equal(after['min.insync.replicas'], '1');
});

test('create-topics verifies the replication factor of topics that exist instead of assuming it', async () => {
  const prefix = uniquePrefix();
  assert.equal((await createTopics({ KAFKA_TOPIC_PREFIX: prefix, TOPIC_PARTITIONS: '2' })).code, 0);
  // The test broker is one node: the topics have one replica each, and a setup that wants two must say so.
  const more = await createTopics({ KAFKA_TOPIC_PREFIX: prefix, TOPIC_PARTITIONS: '2', TOPIC_REPLICATION_FACTOR: '2' });
  assert.equal(more.code, 1, more.output);
  assert.match(more.output, new RegExp(`${prefix.replace('.', '\\.')}chat\\.messages has partitions with 1 replicas, 2 wanted`));
  assert.match(more.output, /partition reassignment/);
});

test('create-topics refuses a min.insync.replicas above the replication factor before touching Kafka', async () => {
  const bad = await createTopics({ KAFKA_BROKERS: '127.0.0.1:1', TOPIC_REPLICATION_FACTOR: '1', TOPIC_MIN_INSYNC_REPLICAS: '2' });
  assert.notEqual(bad.code, 0);
  assert.match(bad.output, /TOPIC_MIN_INSYNC_REPLICAS \(2\) is above TOPIC_REPLICATION_FACTOR \(1\)/);
});

/** The configs set on the topic itself (not broker defaults). */
async function topicOverrides(topic: string): Promise<Record<string, string>> {
  const { resources } = await testAdmin().describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }] });
  return Object.fromEntries(resources[0]!.configEntries.filter(({ configSource }) => configSource === 1).map(({ configName, configValue }) => [configName, configValue]));
}
