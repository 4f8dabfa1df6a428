// Sign-out on one gateway ends the user's streams on the others, on every transport, and voids every token of theirs
// issued before it; the record on the event feed does it at once, Postgres is what a lost record falls back on.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient, PollStream, SseStream, startTestStack, waitUntil, WsStream, type TestStack } from '@chat/testkit';

let stack: TestStack;

before(async () => {
  stack = await startTestStack({ gateways: 2, env: { SIGN_OUT_POLL_MS: '500' } });
});
after(() => stack?.stop());

test('signing out on one gateway ends the streams of every tab on another gateway, and their token is refused everywhere', async () => {
  const [one, two] = stack.gateways.map((gateway) => gateway.url) as [string, string];
  const tab = await ApiClient.login(one, 'leaving');
  const otherTab = await ApiClient.login(two, 'leaving');
  const room = await tab.createRoom('before-sign-out');
  const bystander = await ApiClient.login(two, 'staying');
  await bystander.joinRoom(room.id);
  const auth = { authorization: `Bearer ${tab.token}` };
  const ws = await WsStream.open(two, { rooms: room.id }, auth);
  const sse = await SseStream.open(two, { rooms: room.id }, { authorization: `Bearer ${otherTab.token}` });
  const poll = PollStream.once(two, { rooms: room.id, timeout: '20' }, auth);
  const bystanderStream = await WsStream.forUser(bystander, { rooms: room.id });

  const signOut = await tab.request('POST', '/api/logout');
  assert.equal(signOut.status, 204);

  await waitUntil(() => ws.closeCode !== undefined, 5_000, 'the WebSocket on the other gateway to close');
  assert.equal(ws.closeCode, 4001);
  assert.equal(ws.closeReason, 'signed out');
  await waitUntil(() => sse.ended, 5_000, 'the SSE stream of the other tab to end');
  assert.equal(sse.frames.at(-1)?.code, 'unauthenticated');
  const answer = await poll;
  assert.equal(answer.status, 401);

  for (const [client, gateway] of [[tab, one], [otherTab, two], [tab, two]] as const) {
    const refused = await new ApiClient(gateway).request('GET', '/api/rooms', undefined, { authorization: `Bearer ${client.token}` });
    assert.equal(refused.status, 401, `a token of before the sign-out, on ${gateway}`);
  }
  await assert.rejects(WsStream.open(one, { rooms: room.id }, auth), /upgrade refused: 401/);

  // Someone else's streams go on; signing in again works on either gateway.
  bystanderStream.send({ type: 'ping' });
  await bystanderStream.waitFor((frame) => frame.type === 'pong');
  assert.equal(bystanderStream.closeCode, undefined);
  const again = await ApiClient.login(two, 'leaving');
  assert.equal((await again.request('GET', '/api/rooms')).status, 200);
  const fresh = await WsStream.forUser(again, { rooms: room.id });
  await Promise.all([fresh.close(), bystanderStream.close()]);
});

test('a sign-out whose feed record never came is read from Postgres within SIGN_OUT_POLL_MS', async () => {
  const [, two] = stack.gateways.map((gateway) => gateway.url) as [string, string];
  const user = await ApiClient.login(two, 'record_lost');
  const room = await user.createRoom('quiet');
  const ws = await WsStream.forUser(user, { rooms: room.id });
  // As a gateway that stored the sign-out and died before publishing it would leave it.
  await stack.db.pool.query('UPDATE users SET signed_out_at = clock_timestamp() WHERE id = $1', [user.user.id]);
  await waitUntil(() => ws.closeCode !== undefined, 5_000, 'the stream to end from the poll');
  assert.equal(ws.closeCode, 4001);
  assert.equal((await user.request('GET', '/api/rooms')).status, 401);
});

test('a ticket made before the sign-out opens nothing after it', async () => {
  // Redeemed where the sign-out happened, which knows of it at once (elsewhere: once its record arrives).
  const [one] = stack.gateways.map((gateway) => gateway.url) as [string, string];
  const user = await ApiClient.login(one, 'ticket_holder');
  const room = await user.createRoom('tickets');
  const { ticket } = (await user.request('POST', '/api/tickets')).body as { ticket: string };
  assert.equal((await user.request('POST', '/api/logout')).status, 204);
  await assert.rejects(SseStream.open(one, { ticket, rooms: room.id }), /sse refused: 401/);
});
