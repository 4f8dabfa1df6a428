import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import WebSocket from 'ws';
import { ApiClient, PollStream, SseStream, startTestStack, waitUntil, WsStream, type TestStack } from '@chat/testkit';

let stack: TestStack;
let gateway: string;

before(async () => {
  stack = await startTestStack({
    env: {
      TOKEN_TTL_SECONDS: '3',
      // Streams end at exp: no leeway for clock skew, which one machine does not have.
      JWT_CLOCK_TOLERANCE_SECONDS: '0',
      // The slowest refill allowed: the rate test's HTTP send must find the bucket still empty after the burst.
      SEND_RATE_PER_SECOND: '1',
      SEND_BURST: '3',
      MAX_STREAMS_PER_USER: '3',
      WS_PING_INTERVAL_MS: '300',
    },
  });
  gateway = stack.gateways[0]!.url;
});
after(() => stack?.stop());

test('an expired token closes every open stream: WebSocket with 4001, SSE with an error event, long poll with 401', async () => {
  const user = await ApiClient.login(gateway, 'expiring');
  const room = await user.createRoom('expiry');
  const auth = { authorization: `Bearer ${user.token}` };
  const ws = await WsStream.open(gateway, { rooms: room.id }, auth);
  const sse = await SseStream.open(gateway, { rooms: room.id }, auth);
  const poll = PollStream.once(gateway, { rooms: room.id, timeout: '30' }, auth);

  await waitUntil(() => ws.closeCode !== undefined, 6_000, 'the WebSocket to close');
  assert.equal(ws.closeCode, 4001);
  await waitUntil(() => sse.ended, 6_000, 'the SSE stream to end');
  assert.equal(sse.frames.at(-1)?.code, 'unauthenticated');
  const answer = await poll;
  assert.equal(answer.status, 401);
  assert.equal(answer.body.error?.code, 'unauthenticated');
  // And the token no longer opens anything.
  await assert.rejects(WsStream.open(gateway, { rooms: room.id }, auth), /upgrade refused: 401/);
});

test('sends past the per-user rate get rate_limited with a retry hint, on WebSocket and HTTP', async () => {
  const user = await ApiClient.login(gateway, 'chatty');
  const room = await user.createRoom('rate');
  const stream = await WsStream.forUser(user, { rooms: room.id });
  for (let i = 1; i <= 5; i++) stream.send({ type: 'send', room: room.id, clientMsgId: `r${i}`, text: `r${i}` });
  // Refusals are answered at once; acks wait for Kafka. The HTTP send goes right after the refusals, while the
  // bucket is still empty (the next token is a second away), however long the acks then take.
  const isError = (f: (typeof stream.frames)[number]): f is Extract<typeof f, { type: 'error' }> => f.type === 'error';
  const refused = await waitUntil(() => stream.frames.filter(isError).length >= 2 && stream.frames.filter(isError), 10_000, 'two refusals');
  const http = await user.request<{ error: { code: string } }>('POST', `/api/rooms/${room.id}/messages`, { clientMsgId: 'h', text: 'h' });
  assert.equal(http.status, 429);
  assert.equal(http.body.error.code, 'rate_limited');
  assert.ok(Number(http.headers.get('retry-after')) >= 1);

  await waitUntil(() => stream.frames.filter((f) => f.type === 'ack').length === 3, 15_000, 'three acks');
  assert.deepEqual(refused.map((f) => [f.code, f.clientMsgId]), [
    ['rate_limited', 'r4'],
    ['rate_limited', 'r5'],
  ]);
  assert.ok(((refused[0] as unknown as { retryAfterMs: number }).retryAfterMs ?? 0) > 0);
  await stream.close();
});

test('a WebSocket that keeps sending past the rate gets an error for each refused send, then close 4029 after them', async () => {
  const user = await ApiClient.login(gateway, 'flooding');
  const room = await user.createRoom('flood');
  const stream = await WsStream.forUser(user, { rooms: room.id });
  for (let i = 1; i <= 3; i++) stream.send({ type: 'send', room: room.id, clientMsgId: `ok${i}`, text: 'ok' });
  await waitUntil(() => stream.frames.filter((f) => f.type === 'ack').length === 3, 15_000, 'the burst to be accepted');
  for (let i = 1; i <= 30; i++) stream.send({ type: 'send', room: room.id, clientMsgId: `f${i}`, text: 'flood' });
  await waitUntil(() => stream.closeCode !== undefined, 15_000, 'the flooding socket to be closed');
  assert.equal(stream.closeCode, 4029);
  const refused = stream.frames.filter((f) => f.type === 'error' && f.code === 'rate_limited');
  // The 21st refusal in a row closes the socket; the 20 before it were answered first.
  assert.ok(refused.length >= 20, `${refused.length} rate_limited errors before the close`);
});

test("a WebSocket flooding frames of any kind is refused past its burst, then closed 4029; another user's traffic is untouched", async () => {
  const victim = await ApiClient.login(gateway, 'bystander');
  const calm = await victim.createRoom('calm');
  const victimStream = await WsStream.forUser(victim, { rooms: calm.id });
  const flooder = await ApiClient.login(gateway, 'frame_flooder');
  const own = await flooder.createRoom('own');
  const stream = await WsStream.forUser(flooder, { rooms: own.id });
  // Typing for rooms that do not exist: each one handled would cost a Postgres read. The burst is 100 (WS_FRAME_BURST).
  for (let i = 0; i < 400; i++) stream.send({ type: 'typing', room: randomUUID() });
  await waitUntil(() => stream.closeCode !== undefined, 15_000, 'the flooding socket to be closed');
  assert.equal(stream.closeCode, 4029);
  const limited = stream.frames.filter((f): f is Extract<typeof f, { type: 'error' }> => f.type === 'error' && f.code === 'rate_limited');
  assert.ok(limited.length >= 20, `${limited.length} rate_limited errors before the close`);
  for (const error of limited) assert.ok((error as { retryAfterMs?: number }).retryAfterMs! > 0, 'each says when to retry');
  const handled = stream.frames.filter((f) => f.type === 'error' && f.code === 'not_found').length;
  assert.ok(handled <= 110, `at most the burst and its refill were handled, not the flood: ${handled}`);

  victimStream.send({ type: 'send', room: calm.id, clientMsgId: 'v1', text: 'still here' });
  await victimStream.waitFor((f) => f.type === 'ack');
  assert.equal((await victim.request('GET', `/api/rooms/${calm.id}/messages?after=0&limit=5`)).status, 200);
  await victimStream.close();
});

test('a second subscribe while the first is still read is refused rate_limited; the first one stands', async () => {
  const user = await ApiClient.login(gateway, 'subscriber');
  const [first, second, third] = [await user.createRoom('s1'), await user.createRoom('s2'), await user.createRoom('s3')];
  const stream = await WsStream.forUser(user, { rooms: first.id });
  stream.send({ type: 'subscribe', rooms: [second.id] });
  stream.send({ type: 'subscribe', rooms: [third.id] });
  const refused = await stream.waitFor((f) => f.type === 'error');
  assert.equal((refused as { code: string }).code, 'rate_limited');
  assert.match((refused as { message: string }).message, /one subscribe at a time/);
  assert.ok((refused as { retryAfterMs?: number }).retryAfterMs! > 0);
  const sent = await user.request('POST', `/api/rooms/${second.id}/messages`, { clientMsgId: 'in-second', text: 'subscribed' });
  assert.equal(sent.status, 202);
  await stream.waitFor((f) => f.type === 'message' && f.room === second.id);
  await stream.close();
});

test('sign-ins from one address past LOGIN_BURST are 429 with Retry-After; another address signs in', async () => {
  const anonymous = new ApiClient(gateway);
  // Through the trusted local proxy (TRUSTED_PROXIES=loopback): the address is the forwarded one.
  const from = (address: string, name: string) => anonymous.request('POST', '/api/login', { username: name }, { 'x-forwarded-for': address });
  const answers = [];
  for (let i = 0; i < 120; i++) answers.push(await from('203.0.113.7', `crowd_${i}`));
  const refused = answers.filter((answer) => answer.status === 429);
  assert.ok(answers.slice(0, 100).every((answer) => answer.status === 200), 'the burst of 100 signs in');
  assert.ok(refused.length >= 15, `${refused.length} of the last 20 refused`);
  assert.equal((refused[0]!.body as { error: { code: string } }).error.code, 'rate_limited');
  assert.ok(Number(refused[0]!.headers.get('retry-after')) >= 1);
  assert.equal((await from('198.51.100.2', 'elsewhere')).status, 200);
});

test('room creations past HTTP_CREATE_BURST are 429 for that user only, and its other calls go on', async () => {
  const builder = await ApiClient.login(gateway, 'builder');
  const created = [];
  for (let i = 0; i < 32; i++) created.push(await builder.request('POST', '/api/rooms', { name: `b${i}` }));
  assert.ok(created.slice(0, 30).every((answer) => answer.status === 201), 'the burst of 30');
  assert.equal(created.at(-1)!.status, 429);
  assert.equal((created.at(-1)!.body as { error: { code: string } }).error.code, 'rate_limited');
  assert.equal((await builder.request('GET', '/api/rooms')).status, 200, 'reads are not creations');
  const other = await ApiClient.login(gateway, 'other_builder');
  assert.equal((await other.request('POST', '/api/rooms', { name: 'mine' })).status, 201);
});

test('a user past the open-stream cap is refused without touching the streams already open', async () => {
  const user = await ApiClient.login(gateway, 'many_tabs');
  const room = await user.createRoom('cap');
  const open = [await WsStream.forUser(user, { rooms: room.id }), await WsStream.forUser(user, { rooms: room.id })];
  const sse = await SseStream.forUser(user, { rooms: room.id });
  await assert.rejects(SseStream.forUser(user, { rooms: room.id }), /sse refused: 429/);
  const poll = await PollStream.once(gateway, { rooms: room.id, timeout: '1' }, { authorization: `Bearer ${user.token}` });
  assert.equal(poll.status, 429);
  const overCap = new WebSocket(`${gateway.replace('http', 'ws')}/ws?rooms=${room.id}`, { headers: { authorization: `Bearer ${user.token}` } });
  const [code] = (await once(overCap, 'close')) as [number];
  assert.equal(code, 4029);
  open[0]!.send({ type: 'ping' });
  await open[0]!.waitFor((f) => f.type === 'pong');
  await Promise.all([...open.map((s) => s.close()), sse.close()]);
});

test('a WebSocket that stops answering pings is reaped', async () => {
  const user = await ApiClient.login(gateway, 'silent');
  const room = await user.createRoom('reap');
  const socket = new WebSocket(`${gateway.replace('http', 'ws')}/ws?rooms=${room.id}`, {
    headers: { authorization: `Bearer ${user.token}` },
    autoPong: false,
  });
  const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
  await new Promise((resolve) => socket.once('open', resolve));
  const started = Date.now();
  const code = await closed;
  assert.equal(code, 1006, 'terminated without a close frame');
  // Pings every 300 ms: a reap within 10 s, however loaded the machine, still proves the reaper and not a TCP timeout.
  assert.ok(Date.now() - started < 10_000, `reaped after ${Date.now() - started} ms`);
});
