// A quiet room whose last entry never reached the event feed (its publish was lost) still reaches the room's streams:
// the gateway's tail check finds the room's last seq in Postgres past what its feed delivered, and the streams read it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient, startTestStack, waitUntil, WsStream, type RunningService, type TestStack } from '@chat/testkit';

let stack: TestStack;

before(async () => {
  stack = await startTestStack({ gateways: 1, env: { TAIL_CHECK_INTERVAL_MS: '500' } });
});
after(() => stack?.stop());

test("a room's last entry that never reached the feed is delivered within the tail check's interval, with no further traffic", async () => {
  const [gateway] = stack.gateways as [RunningService];
  const alice = await ApiClient.login(gateway.url, 'tail_alice');
  const bob = await ApiClient.login(gateway.url, 'tail_bob');
  const room = (await alice.createRoom('quiet')).id;
  const stream = await WsStream.forUser(alice, { rooms: room });
  assert.equal((await alice.request('POST', `/api/rooms/${room}/messages`, { clientMsgId: 'm1', text: 'hello' })).status, 202);
  await stream.waitForMessages(1);

  // Bob joins as the gateway's join does (the change and its entry in one call), and nobody publishes the entry.
  const { rows } = await stack.db.pool.query<{ seq: string }>('SELECT seq FROM change_membership($1, $2, $3, $4)', [room, bob.user.id, bob.user.name, 'member_joined']);
  const seq = Number(rows[0]!.seq);
  const started = performance.now();
  const joined = await waitUntil(
    () => stream.frames.find((frame) => frame.type === 'member_joined' && frame.seq === seq),
    5_000,
    "bob's join, which the feed never carried",
  );
  assert.equal(joined.type === 'member_joined' && joined.user.id, bob.user.id);
  assert.ok(performance.now() - started < 3_000, `delivered after ${Math.round(performance.now() - started)} ms`);
  await stream.close();
});
