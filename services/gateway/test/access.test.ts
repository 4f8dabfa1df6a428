import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient, startTestStack, WsStream, type TestStack } from '@chat/testkit';

let stack: TestStack;
let gateway: string;
let owner: ApiClient;
let outsider: ApiClient;
let roomId: string;
const unknownRoom = '00000000-0000-4000-8000-000000000000';

before(async () => {
  stack = await startTestStack();
  gateway = stack.gateways[0]!.url;
  owner = await ApiClient.login(gateway, 'owner');
  outsider = await ApiClient.login(gateway, 'outsider');
  roomId = (await owner.createRoom('private')).id;
});
after(() => stack?.stop());

function assertError(result: { status: number; body: unknown }, status: number, code: string): void {
  assert.equal(result.status, status, JSON.stringify(result.body));
  assert.equal((result.body as { error: { code: string } }).error.code, code);
  assert.equal(typeof (result.body as { error: { message: string } }).error.message, 'string');
}

test('every /api call without a valid bearer token is 401 with the error JSON', async () => {
  const anonymous = new ApiClient(gateway);
  assertError(await anonymous.request('GET', '/api/rooms'), 401, 'unauthenticated');
  assertError(await anonymous.request('POST', '/api/tickets'), 401, 'unauthenticated');
  assertError(await anonymous.request('GET', '/api/rooms', undefined, { authorization: 'Bearer not.a.jwt' }), 401, 'unauthenticated');
});

test('login validates the username', async () => {
  const anonymous = new ApiClient(gateway);
  assertError(await anonymous.request('POST', '/api/login', { username: '' }), 400, 'invalid_input');
  assertError(await anonymous.request('POST', '/api/login', { username: 'has space' }), 400, 'invalid_input');
  assertError(await anonymous.request('POST', '/api/login', { username: 'x'.repeat(33) }), 400, 'invalid_input');
  assertError(await anonymous.request('POST', '/api/login', { username: 'ok', extra: true }), 400, 'invalid_input');
  assertError(await anonymous.request('POST', '/api/login', '{"username":'), 400, 'invalid_input');
});

test('a non-member gets 403 from every room endpoint, and an unknown room is 404', async () => {
  const path = `/api/rooms/${roomId}`;
  assertError(await outsider.request('GET', `${path}/messages`), 403, 'forbidden');
  assertError(await outsider.request('POST', `${path}/messages`, { clientMsgId: 'x', text: 'hi' }), 403, 'forbidden');
  assertError(await outsider.request('GET', `/api/rooms/${unknownRoom}/messages`), 404, 'not_found');
  assertError(await outsider.request('POST', `/api/rooms/${unknownRoom}/join`), 404, 'not_found');
  assertError(await outsider.request('GET', '/api/rooms/not-a-uuid/messages'), 404, 'not_found');
});

test('a WebSocket upgrade is refused with 401 without credentials, 403 for a non-member, 404 for an unknown room', async () => {
  await assert.rejects(WsStream.open(gateway, { rooms: roomId }), /upgrade refused: 401/);
  await assert.rejects(WsStream.forUser(outsider, { rooms: roomId }), /upgrade refused: 403/);
  await assert.rejects(WsStream.forUser(outsider, { rooms: unknownRoom }), /upgrade refused: 404/);
  await assert.rejects(WsStream.forUser(owner, { rooms: roomId, cursor: '%%%' }), /upgrade refused: 400/);
});

test('a stream ticket opens one stream once', async () => {
  const { body } = await owner.request<{ ticket: string; expiresInSeconds: number }>('POST', '/api/tickets');
  assert.equal(body.expiresInSeconds, 30);
  const stream = await WsStream.open(gateway, { rooms: roomId, ticket: body.ticket });
  await stream.close();
  await assert.rejects(WsStream.open(gateway, { rooms: roomId, ticket: body.ticket }), /upgrade refused: 401/);
});

test('a cross-site WebSocket upgrade is refused', async () => {
  await assert.rejects(
    WsStream.open(gateway, { rooms: roomId }, { authorization: `Bearer ${owner.token}`, origin: 'https://evil.example' }),
    /upgrade refused: 403/,
  );
  const sameSite = await WsStream.open(gateway, { rooms: roomId }, { authorization: `Bearer ${owner.token}`, origin: gateway });
  await sameSite.close();
});

test('bad frames get error frames and the connection stays usable', async () => {
  const stream = await WsStream.forUser(owner, { rooms: roomId });
  stream.send('{not json');
  stream.send({ type: 'launch' });
  stream.send({ type: 'send', room: roomId, clientMsgId: 'long', text: 'x'.repeat(4001) });
  stream.send({ type: 'send', room: unknownRoom, clientMsgId: 'nowhere', text: 'hi' });
  stream.send({ type: 'ping' });
  await stream.waitFor((f) => f.type === 'pong');
  const errors = await stream.waitFor(() => stream.frames.filter((f) => f.type === 'error').length >= 4).then(() =>
    stream.frames.filter((f): f is Extract<typeof f, { type: 'error' }> => f.type === 'error'),
  );
  assert.deepEqual(errors.map((e) => e.code), ['invalid_input', 'invalid_input', 'invalid_input', 'not_found']);
  assert.equal(errors[2]!.clientMsgId, 'long');
  assert.equal(errors[3]!.clientMsgId, 'nowhere');
  assert.equal(stream.closeCode, undefined);
  await stream.close();
});

test('a frame over 64 KiB closes only that connection, with 1009', async () => {
  const victim = await WsStream.forUser(owner, { rooms: roomId });
  const bystander = await WsStream.forUser(owner, { rooms: roomId });
  victim.send('x'.repeat(65 * 1024));
  await new Promise((resolve) => victim.socket.once('close', resolve));
  assert.equal(victim.closeCode, 1009);
  bystander.send({ type: 'ping' });
  await bystander.waitFor((f) => f.type === 'pong');
  await bystander.close();
});

test('an oversize HTTP body is 413 with the error JSON', async () => {
  const result = await owner.request('POST', `/api/rooms/${roomId}/messages`, { clientMsgId: 'big', text: 'x'.repeat(70 * 1024) });
  assertError(result, 413, 'too_large');
});

test('room and user ids are taken in any case, as UUIDs are: streams, sends, typing and direct conversations all key by one id', async () => {
  const room = (await owner.createRoom('any case')).id;
  const upper = room.toUpperCase();
  const stream = await WsStream.forUser(owner, { rooms: upper });
  assert.equal((await owner.request('POST', `/api/rooms/${room}/messages`, { clientMsgId: 'lower', text: 'lower' })).status, 202);
  assert.equal((await owner.request('POST', `/api/rooms/${upper}/messages`, { clientMsgId: 'upper', text: 'upper' })).status, 202);
  stream.send({ type: 'send', room: upper, clientMsgId: 'frame', text: 'frame' });
  const messages = await stream.waitForMessages(3);
  assert.deepEqual(
    messages.map((m) => [m.seq, m.room, m.clientMsgId]),
    [
      [2, room, 'lower'],
      [3, room, 'upper'],
      [4, room, 'frame'],
    ],
  );
  await stream.close();
  // A user's own typing is not echoed to them: another member watches for it.
  assert.equal((await outsider.request('POST', `/api/rooms/${upper}/join`)).status, 200);
  const watcher = await WsStream.forUser(outsider, { rooms: room });
  assert.equal((await owner.request('POST', `/api/rooms/${upper}/typing`)).status, 202);
  await watcher.waitFor((frame) => frame.type === 'typing' && frame.room === room, 10_000, 'typing in the room');
  await watcher.close();

  const opened = await owner.request<{ room: { id: string } }>('POST', '/api/dms', { userId: outsider.user.id.toUpperCase() });
  assert.equal(opened.status, 201);
  const again = await owner.request<{ room: { id: string } }>('POST', '/api/dms', { userId: outsider.user.id });
  assert.equal(again.status, 200, 'the same conversation, not a second one');
  assert.equal(again.body.room.id, opened.body.room.id);
  assertError(await owner.request('POST', '/api/dms', { userId: owner.user.id.toUpperCase() }), 400, 'invalid_input');
});
