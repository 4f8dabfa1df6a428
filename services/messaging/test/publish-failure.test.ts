// A publish to chat.events that fails after its batch's eachBatch has returned (the publish overlaps the next fetch):
// the batch is replayed, and each room's events reach chat.events once each and in order, whether a later batch
// finds the failure or the partition stays idle. Real Kafka and Postgres; only the publish is made to fail.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { BatchingProducer, createKafka, decodeFeedRecord, encodeSendCommand, type Kafka, type SendCommand } from '@chat/kafka';
import { createLogger } from '@chat/runtime';
import { createTestDatabase, createTestTopics, testInfra, waitUntil, type TestDatabase } from '@chat/testkit';
import type { Message } from 'kafkajs';
import { PgMessageWriter, type MessageWriter } from '../src/db/message-writer';
import { CommandConsumer, type EventProducer } from '../src/kafka/command-consumer';

const logger = createLogger('publish-failure-test', 'silent');
const sender = { id: randomUUID(), name: 'sender' };
let db: TestDatabase;
let kafka: Kafka;

before(async () => {
  db = await createTestDatabase();
  await db.pool.query('INSERT INTO users (id, name) VALUES ($1, $2)', [sender.id, sender.name]);
  kafka = createKafka({ clientId: 'publish-failure-test', brokers: testInfra().kafkaBrokers }, logger);
});
after(() => db.drop());

/** The real producer, except that the sends of its first batch (every send made in the same tick) fail. */
class FailingPublish implements EventProducer {
  private readonly real: BatchingProducer;
  private armed = true;
  private failing = false;
  failed = 0;

  constructor() {
    this.real = new BatchingProducer(kafka);
  }

  connect(): Promise<void> {
    return this.real.connect();
  }

  send(topic: string, message: Message): Promise<void> {
    if (this.armed) {
      this.armed = false;
      this.failing = true;
      setImmediate(() => (this.failing = false));
    }
    if (!this.failing) return this.real.send(topic, message);
    this.failed++;
    return Promise.reject(new Error('injected publish failure'));
  }

  disconnect(): Promise<void> {
    return this.real.disconnect();
  }
}

interface Setup {
  room: string;
  publish: FailingPublish;
  sendCommands(from: number, count: number): Promise<void>;
  /** The seqs of the room's entries on chat.events, in the order they were published. */
  published(): number[];
  stop(): Promise<void>;
}

async function setUp(writer: MessageWriter = new PgMessageWriter(db.pool)): Promise<Setup> {
  const topics = await createTestTopics(1);
  const room = randomUUID();
  await db.pool.query('INSERT INTO rooms (id, name, created_by) VALUES ($1, $2, $3)', [room, 'publish failure', sender.id]);
  const publish = new FailingPublish();
  const consumer = new CommandConsumer({
    kafka,
    topics: topics.names,
    groupId: `${topics.prefix}messaging`,
    writer,
    logger,
    partitionsConcurrently: 1,
    producer: publish,
  });
  await consumer.start();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const events = kafka.consumer({ groupId: `${topics.prefix}verify` });
  const seqs: number[] = [];
  await events.connect();
  await events.subscribe({ topic: topics.names.events, fromBeginning: true });
  await events.run({
    eachMessage: async ({ message }) => {
      const record = decodeFeedRecord(message.value);
      if (record?.kind === 'entry' && record.room === room) seqs.push(record.seq);
    },
  });
  return {
    room,
    publish,
    async sendCommands(from, count) {
      const messages = Array.from({ length: count }, (_, i) => {
        const command: SendCommand = { v: 1, room, sender, clientMsgId: `m${from + i}`, text: `m${from + i}`, acceptedAt: new Date().toISOString() };
        return { key: room, value: encodeSendCommand(command) };
      });
      await producer.send({ topic: topics.names.messages, acks: -1, messages });
    },
    published: () => [...seqs],
    async stop() {
      await Promise.all([events.disconnect(), producer.disconnect(), consumer.stop()]);
    },
  };
}

const oneToTen = Array.from({ length: 10 }, (_, i) => i + 1);

test('a batch whose publish fails is replayed when the partition stays idle, and its events come first', async () => {
  const setup = await setUp();
  try {
    await setup.sendCommands(1, 5);
    await waitUntil(() => setup.publish.failed > 0, 30_000, 'the first publish to fail');
    // Nothing else arrives: the consumer itself goes back to the failed batch.
    await waitUntil(() => setup.published().length >= 5, 30_000, 'the failed batch replayed');
    await setup.sendCommands(6, 5);
    await waitUntil(() => setup.published().length >= 10, 30_000, 'the next batch published');
    assert.equal(setup.publish.failed, 5, 'the five sends of one batch failed');
    assert.deepEqual(setup.published(), oneToTen);
  } finally {
    await setup.stop();
  }
});

test('a batch whose publish fails is replayed with the batch after it, which never overtakes it', async () => {
  const setup = await setUp();
  try {
    await setup.sendCommands(1, 5);
    await waitUntil(() => setup.publish.failed > 0, 30_000, 'the first publish to fail');
    // At once, well before the consumer would replay on its own: this batch finds the failure and must not publish first.
    await setup.sendCommands(6, 5);
    await waitUntil(() => setup.published().length >= 10, 60_000, 'both batches published');
    assert.deepEqual(setup.published(), oneToTen);
    const { rows } = await db.pool.query<{ seq: number }>('SELECT seq FROM messages WHERE room_id = $1 ORDER BY seq', [setup.room]);
    assert.deepEqual(
      rows.map((row) => Number(row.seq)),
      oneToTen,
      'each send stored once',
    );
  } finally {
    await setup.stop();
  }
});

test('a batch still being stored when the failed one is replayed does not publish before it', async () => {
  // The batch after the failed one takes longer to store than the consumer waits before replaying on its own.
  const real = new PgMessageWriter(db.pool);
  let delayed = false;
  const slowSecondBatch: MessageWriter = {
    async persistBatch(commands) {
      if (!delayed && commands.some((command) => command.clientMsgId === 'm6')) {
        delayed = true;
        await new Promise((resolve) => setTimeout(resolve, 2_500));
      }
      return real.persistBatch(commands);
    },
  };
  const setup = await setUp(slowSecondBatch);
  try {
    await setup.sendCommands(1, 5);
    await waitUntil(() => setup.publish.failed > 0, 30_000, 'the first publish to fail');
    await setup.sendCommands(6, 5);
    await waitUntil(() => setup.published().length >= 10, 60_000, 'both batches published');
    assert.ok(delayed, 'the second batch was held up');
    assert.deepEqual(setup.published(), oneToTen);
  } finally {
    await setup.stop();
  }
});

test('a failed publish whose replay finds the consumer restarting (kafkajs refuses the seek) is replayed once it is back, in order', async () => {
  // The batch after the failed one crashes the consumer at once (an error kafkajs does not retry in place) and holds
  // its restart off for 4 s, so the replay of the failed publish (after 1 s) comes while kafkajs restarts the consumer,
  // and consumer.seek throws. Before, that throw was an uncaught exception in a timer, which ended messaging.
  const real = new PgMessageWriter(db.pool);
  let crashed = false;
  const failsOnce: MessageWriter = {
    async persistBatch(commands) {
      if (!crashed && commands.some((command) => command.clientMsgId === 'm6')) {
        crashed = true;
        throw Object.assign(new Error('injected crash'), { name: 'KafkaJSNoBrokerAvailableError', retriable: true, retryTime: 4_000 });
      }
      return real.persistBatch(commands);
    },
  };
  const setup = await setUp(failsOnce);
  try {
    await setup.sendCommands(1, 5);
    await waitUntil(() => setup.publish.failed > 0, 30_000, 'the first publish to fail');
    await setup.sendCommands(6, 5);
    await waitUntil(() => setup.published().length >= 10, 60_000, 'both batches published after the restart');
    assert.ok(crashed, 'the consumer crashed and restarted');
    assert.deepEqual(setup.published(), oneToTen);
  } finally {
    await setup.stop();
  }
});
