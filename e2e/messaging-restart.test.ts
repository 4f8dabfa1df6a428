import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient, startTestStack, waitUntil, WsStream, type TestStack } from '@chat/testkit';

let stack: TestStack;

before(async () => {
  stack = await startTestStack();
});
after(() => stack?.stop());

test('a message acknowledged while messaging is down arrives once after it restarts', async () => {
  const gateway = stack.gateways[0]!.url;
  const alice = await ApiClient.login(gateway, 'alice');
  const room = await alice.createRoom('restart');
  const stream = await WsStream.forUser(alice, { rooms: room.id });

  assert.equal(await stack.messaging.stop(), 0, 'messaging exits cleanly on SIGTERM');
  stream.send({ type: 'send', room: room.id, clientMsgId: 'while-down', text: 'sent while messaging was down' });
  // Acknowledged: Kafka has it, though nothing has processed it yet.
  await stream.waitFor((f) => f.type === 'ack');
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(stream.messages().length, 0);

  stack.messaging = await stack.startMessaging();
  const [message] = await stream.waitForMessages(1, 20_000);
  assert.equal(message!.seq, 2, 'after alice\'s join');
  assert.equal(message!.text, 'sent while messaging was down');

  stream.send({ type: 'send', room: room.id, clientMsgId: 'after', text: 'after the restart' });
  await stream.waitForMessages(2);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(stream.messages().map((m) => [m.seq, m.clientMsgId]), [[2, 'while-down'], [3, 'after']]);
  await stream.close();
});

test('messaging killed with SIGKILL mid-stream loses nothing and duplicates nothing', async () => {
  const gateway = stack.gateways[0]!.url;
  const bob = await ApiClient.login(gateway, 'bob');
  const room = await bob.createRoom('crash');
  const stream = await WsStream.forUser(bob, { rooms: room.id });
  const total = 40;

  for (let i = 1; i <= total; i++) {
    stream.send({ type: 'send', room: room.id, clientMsgId: `m${i}`, text: `message ${i}` });
    if (i === total / 2) await stack.messaging.kill();
  }
  await waitUntil(() => stream.frames.filter((f) => f.type === 'ack').length === total || undefined, 10_000, 'every ack');
  stack.messaging = await stack.startMessaging();

  const messages = await stream.waitForMessages(total, 40_000);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const all = stream.messages();
  assert.equal(all.length, total, 'each message exactly once on the stream');
  assert.deepEqual(all.map((m) => m.seq), Array.from({ length: total }, (_, i) => i + 2), 'after bob\'s join');
  assert.deepEqual(new Set(messages.map((m) => m.clientMsgId)).size, total);
  const { rows } = await stack.db.pool.query<{ n: number; max: number }>(
    'SELECT count(*)::int AS n, max(seq)::int AS max FROM messages WHERE room_id = $1',
    [room.id],
  );
  assert.deepEqual(rows[0], { n: total + 1, max: total + 1 }, 'the join and every message, each once');
  await stream.close();
});
