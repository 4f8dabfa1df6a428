import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient, startTestStack, WsStream, type TestStack } from '@chat/testkit';

let stack: TestStack;

before(async () => {
  stack = await startTestStack({ gateways: 2 });
});
after(() => stack?.stop());

test('a stream dropped on one gateway resumes on the other with every message exactly once', async () => {
  const [first, second] = stack.gateways.map((g) => g.url) as [string, string];
  const alice = await ApiClient.login(first, 'alice');
  const bob = await ApiClient.login(second, 'bob');
  const room = await alice.createRoom('resume');
  await bob.joinRoom(room.id);
  const send = (n: number) => alice.request('POST', `/api/rooms/${room.id}/messages`, { clientMsgId: `m${n}`, text: `m${n}` });

  const bobOnFirst = await WsStream.open(first, { rooms: room.id }, { authorization: `Bearer ${bob.token}` });
  await send(1);
  await send(2);
  await bobOnFirst.waitForMessages(2);
  const cursor = bobOnFirst.cursor!;
  await bobOnFirst.close();

  for (let n = 3; n <= 6; n++) await send(n);
  const bobOnSecond = await WsStream.open(second, { rooms: room.id, cursor }, { authorization: `Bearer ${bob.token}` });
  await bobOnSecond.waitForMessages(4);
  await send(7);
  await bobOnSecond.waitForMessages(5);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(bobOnSecond.messages().map((m) => m.seq), [3, 4, 5, 6, 7]);
  await bobOnSecond.close();
});

test('without a cursor a stream starts from now, and its ready frame already carries a cursor to resume from', async () => {
  const gateway = stack.gateways[0]!.url;
  const carol = await ApiClient.login(gateway, 'carol');
  const room = await carol.createRoom('from-now');
  const send = (n: number) => carol.request('POST', `/api/rooms/${room.id}/messages`, { clientMsgId: `m${n}`, text: `m${n}` });
  await send(1);
  const watcher = await WsStream.forUser(carol, { rooms: room.id });
  await watcher.waitForMessages(1);

  const late = await WsStream.forUser(carol, { rooms: room.id });
  const readyCursor = late.cursor!;
  await late.close();
  await send(2);
  await watcher.waitForMessages(2);

  const resumed = await WsStream.forUser(carol, { rooms: room.id, cursor: readyCursor });
  await resumed.waitForMessages(1);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(resumed.messages().map((m) => m.seq), [2]);
  await Promise.all([watcher.close(), resumed.close()]);
});

test('a stream without rooms covers every room of the user', async () => {
  const gateway = stack.gateways[1]!.url;
  const dave = await ApiClient.login(gateway, 'dave');
  const one = await dave.createRoom('one');
  const two = await dave.createRoom('two');
  const stream = await WsStream.forUser(dave);
  await dave.request('POST', `/api/rooms/${one.id}/messages`, { clientMsgId: 'a', text: 'in one' });
  await dave.request('POST', `/api/rooms/${two.id}/messages`, { clientMsgId: 'b', text: 'in two' });
  const messages = await stream.waitForMessages(2);
  assert.deepEqual(new Set(messages.map((m) => m.room)), new Set([one.id, two.id]));
  await stream.close();
});
