// Records of chat.messages that cannot be stored, produced straight onto the topic (no gateway validated them), go to
// chat.messages.dlq with why and where from, and every other record of the same fetch, in every room, is stored and
// delivered in order: one poison record stalls nothing. Real gateway and messaging processes, Kafka and Postgres.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { encodeSendCommand, type SendCommand } from '@chat/kafka';
import { ApiClient, startTestStack, testInfra, waitUntil, WsStream, type TestStack } from '@chat/testkit';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';

let stack: TestStack;
let kafka: Kafka;

before(async () => {
  stack = await startTestStack();
  kafka = new Kafka({ clientId: 'dead-letters-test', brokers: testInfra().kafkaBrokers, logLevel: logLevel.NOTHING });
});
after(() => stack?.stop());

async function deadLetters(count: number): Promise<KafkaMessage[]> {
  const found: KafkaMessage[] = [];
  const consumer = kafka.consumer({ groupId: `${stack.topics.prefix}dlq-reader-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic: stack.topics.names.deadLetters, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void found.push(message) });
  try {
    await waitUntil(() => found.length >= count, 30_000, `${count} dead letters`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    return found;
  } finally {
    await consumer.disconnect();
  }
}

test('a record the writer cannot store lands in the dead-letter topic; the other rooms\' records of the same fetch are stored and delivered in order', async () => {
  const gateway = stack.gateways[0]!.url;
  const alice = await ApiClient.login(gateway, 'dlq_alice');
  const [a, b] = [(await alice.createRoom('a')).id, (await alice.createRoom('b')).id];
  const stream = await WsStream.forUser(alice, { rooms: `${a},${b}` });
  const sender = alice.user;
  const command = (room: string, clientMsgId: string, text: string): SendCommand => ({ v: 1, room, sender, clientMsgId, text, acceptedAt: new Date().toISOString() });
  const record = (value: SendCommand | string, key: string) => ({ key, value: typeof value === 'string' ? Buffer.from(value) : encodeSendCommand(value) });

  const producer = kafka.producer();
  await producer.connect();
  // One send, so that the records are in one fetch (and, for rooms of partitions fetched together, one statement).
  await producer.send({
    topic: stack.topics.names.messages,
    acks: -1,
    messages: [
      record(command(a, 'a1', 'first in a'), a),
      record(command(a, 'nul\u0000id', 'a NUL in the id'), a),
      record(command(b, 'b1', 'first in b'), b),
      record(command(a, 'x\ud800', 'a lone surrogate'), a),
      record('{"not": "a send command"', b),
      record(command(b, 'b2', 'a BEL \u0007 in the text'), b),
      record(command(a, 'a2', 'second in a'), a),
      record(command(b, 'b3', 'second in b'), b),
    ],
  });
  await producer.disconnect();

  await stream.waitForMessages(4, 30_000);
  await new Promise((resolve) => setTimeout(resolve, 500));
  // Seq 1 of each room is alice's join.
  assert.deepEqual(stream.messages(a).map((m) => [m.seq, m.text]), [[2, 'first in a'], [3, 'second in a']]);
  assert.deepEqual(stream.messages(b).map((m) => [m.seq, m.text]), [[2, 'first in b'], [3, 'second in b']]);

  const letters = await deadLetters(4);
  const header = (message: KafkaMessage, name: string) => String(message.headers?.[name] ?? '');
  assert.deepEqual(
    letters.map((m) => [m.key?.toString(), header(m, 'chat-dlq-reason')]).sort(),
    [[a, 'invalid'], [a, 'invalid'], [b, 'invalid'], [b, 'undecodable']].sort(),
  );
  for (const letter of letters) assert.match(header(letter, 'chat-dlq-source'), new RegExp(`^${stack.topics.names.messages.replaceAll('.', '\\.')}/\\d+/\\d+$`));
  assert.ok(letters.some((m) => m.value?.toString() === '{"not": "a send command"'), 'the record as it was');

  // The pipeline did not stall: a send through the gateway afterwards is stored and delivered.
  assert.equal((await alice.request('POST', `/api/rooms/${a}/messages`, { clientMsgId: 'a3', text: 'after' })).status, 202);
  await waitUntil(() => stream.messages(a).length === 3, 15_000, 'the send after the poison');
  const metrics = await (await fetch(`${stack.messaging.url}/metrics`)).text();
  assert.match(metrics, /chat_dead_letters_total\{reason="invalid"\} 3/);
  assert.match(metrics, /chat_dead_letters_total\{reason="undecodable"\} 1/);
  assert.equal(stack.messaging.process.exitCode, null, 'messaging is alive');
  await stream.close();
});
