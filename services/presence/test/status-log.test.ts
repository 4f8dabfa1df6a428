// Reading published statuses back, which every heartbeat batch of a newly assigned replica waits for, against a
// real broker: it returns each user's last status, and it ends, with an error, when it cannot finish in time.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { encodePresence, type PresenceRecord } from '@chat/kafka';
import { createTestTopics, testInfra, type TestTopics } from '@chat/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { readPublishedStatuses } from '../src/status-log';

let topics: TestTopics;
const kafka = () => new Kafka({ brokers: testInfra().kafkaBrokers, logLevel: logLevel.NOTHING });
const status = (id: string, value: PresenceRecord['status']): PresenceRecord => ({ user: { id, name: id }, status: value });

before(async () => {
  topics = await createTestTopics(1);
  const producer = kafka().producer();
  await producer.connect();
  await producer.send({
    topic: topics.names.presence,
    messages: [status('ann', 'online'), status('ben', 'online'), status('ann', 'offline')].map((record) => ({ key: record.user.id, value: encodePresence(record) })),
  });
  await producer.disconnect();
});

test('the last status of each user of the partitions, as published', { timeout: 40_000 }, async () => {
  const statuses = await readPublishedStatuses(kafka(), topics.names.presence, [0], `restore-${randomUUID()}`);
  assert.deepEqual(
    statuses.map((record) => `${record.user.id} ${record.status}`).sort(),
    ['ann offline', 'ben online'],
  );
});

test('a read that cannot finish by its deadline rejects, and lets its consumer go', { timeout: 40_000 }, async () => {
  const client = kafka();
  const groupId = `restore-${randomUUID()}`;
  await assert.rejects(readPublishedStatuses(client, topics.names.presence, [0], groupId, 1), /took longer than 1 ms/);
  const admin = client.admin();
  await admin.connect();
  try {
    const [group] = (await admin.describeGroups([groupId])).groups;
    assert.deepEqual(group?.members ?? [], [], 'no member of the read group stays behind');
  } finally {
    await admin.disconnect();
  }
});
