import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient, startTestStack, waitUntil, WsStream, type TestStack } from '@chat/testkit';

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
  assert.deepEqual(bobOnSecond.messages().map((m) => m.seq), [5, 6, 7, 8, 9], 'after seqs 1 and 2, the joins, and m1, m2');
  await bobOnSecond.close();
});

test('without a cursor a stream starts from now, and its ready frame already carries a cursor to resume from', async () => {
  const gateway = stack.gateways[0]!.url;
  const carol = await ApiClient.login(gateway, 'carol');
  const room = await carol.createRoom('from-now');
  const send = (n: number) => carol.request('POST', `/api/rooms/${room.id}/messages`, { clientMsgId: `m${n}`, text: `m${n}` });
  const watcher = await WsStream.forUser(carol, { rooms: room.id });
  await send(1);
  // Delivered live only once stored: the next stream opens after seq 1 exists.
  await watcher.waitForMessages(1);

  const late = await WsStream.forUser(carol, { rooms: room.id });
  const readyCursor = late.cursor!;
  await new Promise((resolve) => setTimeout(resolve, 200));
  await late.close();
  assert.equal(late.messages().length, 0, 'no history is replayed to a stream without a cursor');
  await send(2);
  await watcher.waitForMessages(2);

  const resumed = await WsStream.forUser(carol, { rooms: room.id, cursor: readyCursor });
  await resumed.waitForMessages(1);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(resumed.messages().map((m) => m.seq), [3], 'm2, after carol\'s join and m1');
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

test('a stream without rooms picks up rooms created or joined while it is open, from the moment of joining', async () => {
  const [first, second] = stack.gateways.map((g) => g.url) as [string, string];
  const erin = await ApiClient.login(first, 'erin');
  const frank = await ApiClient.login(second, 'frank');
  const frankRoom = await frank.createRoom('frank-room');
  await frank.request('POST', `/api/rooms/${frankRoom.id}/messages`, { clientMsgId: 'before', text: 'before erin joined' });
  await waitUntil(async () => {
    const history = await frank.request<{ messages: unknown[] }>('GET', `/api/rooms/${frankRoom.id}/messages`);
    return history.body.messages.length === 2; // frank's join, and the message
  }, 10_000, 'the first message to be stored');

  const stream = await WsStream.forUser(erin); // on the other gateway than the joins below
  const created = await new ApiClient(second).request<{ room: { id: string } }>('POST', '/api/rooms', { name: 'erin-room' }, { authorization: `Bearer ${erin.token}` });
  const erinRoom = created.body.room.id;
  await new ApiClient(second).request('POST', `/api/rooms/${frankRoom.id}/join`, undefined, { authorization: `Bearer ${erin.token}` });

  await erin.request('POST', `/api/rooms/${erinRoom}/messages`, { clientMsgId: 'a', text: 'in the new room' });
  await frank.request('POST', `/api/rooms/${frankRoom.id}/messages`, { clientMsgId: 'after', text: 'after erin joined' });
  const messages = await stream.waitForMessages(2);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(
    stream.messages().map((m) => m.text).sort(),
    ['after erin joined', 'in the new room'],
    'both new rooms, and nothing from before the join',
  );
  assert.equal(messages.length, 2);
  await stream.close();
});
