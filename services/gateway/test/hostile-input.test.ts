// What a hostile client sends gets a clear error, never a crash: forged cursors on every transport, poison
// clientMsgIds, integers past 2^53, and a cursor that names rooms the caller cannot read. After each, the gateway
// still serves everyone else. Real gateway and messaging processes, real Kafka and Postgres.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCursor, encodeCursor } from '@chat/protocol';
import { ApiClient, PollStream, startTestStack, waitUntil, WsStream, type TestStack } from '@chat/testkit';

let stack: TestStack;
let gateway: string;
let alice: ApiClient;
let mallory: ApiClient;
let aliceRoom: string;
let malloryRoom: string;

before(async () => {
  stack = await startTestStack();
  gateway = stack.gateways[0]!.url;
  alice = await ApiClient.login(gateway, 'hostile_alice');
  mallory = await ApiClient.login(gateway, 'hostile_mallory');
  aliceRoom = (await alice.createRoom('not mallory’s')).id;
  malloryRoom = (await mallory.createRoom('mallory’s')).id;
});
after(() => stack?.stop());

/** A cursor as the encoder would write it, but with a seq the encoder refuses (past 2^53). */
function forgedCursor(rooms: Array<[string, bigint]>): string {
  const bytes = [1];
  for (const [room, seq] of rooms) {
    bytes.push(...Buffer.from(room.replaceAll('-', ''), 'hex'));
    let n = seq;
    for (; n >= 0x80n; n >>= 7n) bytes.push(Number(n & 0x7fn) | 0x80);
    bytes.push(Number(n));
  }
  return Buffer.from(bytes).toString('base64url');
}

async function assertServing(): Promise<void> {
  assert.equal((await fetch(`${gateway}/readyz`)).status, 200, 'the gateway is still ready');
  assert.equal(stack.gateways[0]!.process.exitCode, null, 'the gateway process is alive');
  const stream = await WsStream.forUser(alice, { rooms: aliceRoom });
  const clientMsgId = `alive-${Date.now()}`;
  stream.send({ type: 'send', room: aliceRoom, clientMsgId, text: 'still here' });
  await stream.waitFor((f) => f.type === 'message' && (f as { clientMsgId?: string }).clientMsgId === clientMsgId, 15_000, 'the message delivered');
  await stream.close();
}

test('a cursor with a seq of 2^53, for a room of the caller or of someone else, is 400 invalid_cursor on every transport, and the gateway serves on', async () => {
  const auth = { authorization: `Bearer ${mallory.token}` };
  for (const cursor of [
    forgedCursor([[malloryRoom, 2n ** 53n]]),
    forgedCursor([[aliceRoom, 2n ** 53n]]),
    forgedCursor([[malloryRoom, 1n], [aliceRoom, 2n ** 60n]]),
  ]) {
    await assert.rejects(WsStream.open(gateway, { rooms: malloryRoom, cursor }, auth), /upgrade refused: 400/, 'WebSocket');
    await assert.rejects(WsStream.open(gateway, { cursor }, auth), /upgrade refused: 400/, 'WebSocket, all rooms');
    const sse = await fetch(`${gateway}/sse?rooms=${malloryRoom}`, { headers: { ...auth, 'last-event-id': cursor } });
    assert.equal(sse.status, 400, 'SSE with Last-Event-ID');
    assert.equal(((await sse.json()) as { error: { code: string } }).error.code, 'invalid_cursor');
    const poll = await PollStream.once(gateway, { rooms: malloryRoom, cursor, timeout: '1' }, auth);
    assert.equal(poll.status, 400, 'long poll');
    assert.equal(poll.body.error?.code, 'invalid_cursor');
  }
  await assertServing();
});

test('positions a cursor holds for rooms the caller cannot read are dropped, not carried back in its cursors', async () => {
  const cursor = encodeCursor(new Map([[malloryRoom, 0], [aliceRoom, 12345]]));
  const stream = await WsStream.open(gateway, { rooms: malloryRoom, cursor }, { authorization: `Bearer ${mallory.token}` });
  const ready = await stream.waitFor((f) => f.type === 'ready', 10_000, 'the ready event');
  assert.deepEqual([...decodeCursor((ready as { cursor: string }).cursor).keys()], [malloryRoom]);
  await stream.close();
});

test('poison clientMsgIds (a NUL, lone surrogates, controls, the server\'s own key form) are refused with invalid_input on HTTP and WebSocket', async () => {
  const poison = ['a\u0000b', 'x\ud800', 'x\udbff', 'bell\u0007', 'delete 1', 'has space', '', 'é', 'x'.repeat(65)];
  for (const clientMsgId of poison) {
    const http = await mallory.request<{ error: { code: string } }>('POST', `/api/rooms/${malloryRoom}/messages`, { clientMsgId, text: 'poison' });
    assert.equal(http.status, 400, JSON.stringify(clientMsgId));
    assert.equal(http.body.error.code, 'invalid_input');
  }
  const stream = await WsStream.forUser(mallory, { rooms: malloryRoom });
  for (const clientMsgId of poison) stream.send({ type: 'send', room: malloryRoom, clientMsgId, text: 'poison' });
  const refusals = await waitUntil(
    () => stream.frames.filter((f) => f.type === 'error').length >= poison.length && stream.frames.filter((f) => f.type === 'error'),
    10_000,
    'a refusal for each',
  );
  assert.deepEqual(new Set(refusals.map((f) => (f as { code: string }).code)), new Set(['invalid_input']));
  await stream.close();
  const history = await mallory.request<{ messages: Array<{ type: string }> }>('GET', `/api/rooms/${malloryRoom}/messages`);
  assert.deepEqual(history.body.messages.map((entry) => entry.type), ['member_joined'], 'nothing stored but her own join');
});

test('integers past 2^53 in queries and bodies are 400 invalid_input, not 500', async () => {
  for (const query of ['before=1e300', 'after=9007199254740993', 'before=-1', 'limit=1e300', 'after=1.5']) {
    const result = await mallory.request<{ error: { code: string } }>('GET', `/api/rooms/${malloryRoom}/messages?${query}`);
    assert.equal(result.status, 400, query);
    assert.equal(result.body.error.code, 'invalid_input', query);
  }
  for (const body of ['{"seq": 1e300}', '{"seq": 9007199254740993}', '{"seq": -1}']) {
    const result = await mallory.request<{ error: { code: string } }>('POST', `/api/rooms/${malloryRoom}/read`, body);
    assert.equal(result.status, 400, body);
    assert.equal(result.body.error.code, 'invalid_input', body);
  }
  const edit = await mallory.request<{ error: { code: string } }>('PATCH', `/api/rooms/${malloryRoom}/messages/1e300`, { clientMsgId: 'e1', text: 'x' });
  assert.equal(edit.status, 400);
  const poll = await PollStream.once(gateway, { rooms: malloryRoom, timeout: '1e300' }, { authorization: `Bearer ${mallory.token}` });
  assert.equal(poll.status, 400);
  await assertServing();
});
