import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TransportName } from '@chat/protocol';
import { ApiClient, openStream, PollStream, SseStream, startTestStack, waitUntil, type TestStack } from '@chat/testkit';

let stack: TestStack;
let urls: [string, string];

before(async () => {
  stack = await startTestStack({ gateways: 2, env: { SSE_HEARTBEAT_MS: '200' } });
  urls = stack.gateways.map((g) => g.url) as [string, string];
});
after(() => stack?.stop());

/** Alice's room, which bob joined: its seqs 1 and 2 are their joins, and the messages follow. */
async function roomWithMembers(tag: string) {
  const alice = await ApiClient.login(urls[0], `alice_${tag}`);
  const bob = await ApiClient.login(urls[1], `bob_${tag}`);
  const room = await alice.createRoom(`room ${tag}`);
  await bob.joinRoom(room.id);
  let n = 0;
  const send = async (count: number) => {
    for (let i = 0; i < count; i++) {
      n++;
      const result = await alice.request('POST', `/api/rooms/${room.id}/messages`, { clientMsgId: `${tag}-${n}`, text: `message ${n}` });
      assert.equal(result.status, 202);
    }
  };
  return { alice, bob, room, send };
}

function seqs(stream: { messages(): Array<{ seq: number }> }): number[] {
  return stream.messages().map((m) => m.seq);
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

for (const transport of ['websocket', 'sse', 'poll'] as TransportName[]) {
  describe(`over ${transport}`, () => {
    test('clients on different gateways see the same messages in the same order', async () => {
      const { alice, bob, room, send } = await roomWithMembers(`${transport}-order`);
      const onFirst = await openStream(transport, alice, urls[0], { rooms: room.id });
      const onSecond = await openStream(transport, bob, urls[1], { rooms: room.id });
      await send(15);
      const [a, b] = await Promise.all([onFirst.waitForMessages(15), onSecond.waitForMessages(15)]);
      assert.equal(a.length, 15);
      assert.deepEqual(seqs(onFirst), range(3, 17));
      assert.deepEqual(onFirst.messages().map((m) => m.id), onSecond.messages().map((m) => m.id));
      assert.equal(b.length, 15);
      await Promise.all([onFirst.close(), onSecond.close()]);
    });

    test('a client dropped mid-stream resumes on the other gateway with every message exactly once', async () => {
      const { bob, room, send } = await roomWithMembers(`${transport}-resume`);
      const first = await openStream(transport, bob, urls[0], { rooms: room.id });
      await send(5);
      await first.waitForMessages(5);
      const cursor = first.cursor!;
      await first.close();
      const sending = send(10); // while the client is away and while it comes back
      const second = await openStream(transport, bob, urls[1], { rooms: room.id, cursor });
      await sending;
      await second.waitForMessages(10);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(seqs(second), range(8, 17));
      await second.close();
    });
  });
}

test('a non-member is refused on every stream transport, before any event', async () => {
  const { room } = await roomWithMembers('refused');
  const stranger = await ApiClient.login(urls[0], 'stranger');
  const auth = { authorization: `Bearer ${stranger.token}` };
  await assert.rejects(SseStream.open(urls[0], { rooms: room.id }, auth), /sse refused: 403/);
  const poll = await PollStream.once(urls[1], { rooms: room.id, timeout: '1' }, auth);
  assert.equal(poll.status, 403);
  assert.equal(poll.body.error?.code, 'forbidden');
  const anonymous = await PollStream.once(urls[1], { rooms: room.id, timeout: '1' });
  assert.equal(anonymous.status, 401);
});

test('SSE sends a retry hint, resumes from Last-Event-ID over ?cursor, and keeps alive with comments', async () => {
  const { bob, room, send } = await roomWithMembers('sse-details');
  const stream = await SseStream.forUser(bob, { rooms: room.id });
  assert.equal(stream.retryMs, 1000);
  await send(2);
  await stream.waitForMessages(2);
  assert.equal(stream.lastEventId, stream.cursor, 'the id line is the cursor');
  const early = stream.frames.find((f) => f.type === 'ready')!.cursor!;
  const resumeFrom = stream.lastEventId!;
  await stream.close();
  await send(1);
  // The URL still names the old cursor, as an EventSource's would; Last-Event-ID wins.
  const resumed = await SseStream.forUser(bob, { rooms: room.id, cursor: early }, { 'last-event-id': resumeFrom });
  await resumed.waitForMessages(1);
  await waitUntil(() => resumed.comments >= 1, 10_000, 'keep-alive comments between events');
  assert.deepEqual(seqs(resumed), [5]);
  await resumed.close();
});

test('a long poll answers at once when events are pending, and at the timeout with none', async () => {
  const { bob, room, send } = await roomWithMembers('poll-details');
  const auth = { authorization: `Bearer ${bob.token}` };
  const empty = await PollStream.once(urls[0], { rooms: room.id, timeout: '1' }, auth);
  assert.equal(empty.status, 200);
  assert.deepEqual(empty.body.events, []);
  await send(3);
  await waitUntil(async () => {
    const history = await bob.request<{ messages: unknown[] }>('GET', `/api/rooms/${room.id}/messages`);
    return history.body.messages.length === 5;
  }, 10_000, 'three stored messages');
  const started = Date.now();
  const pending = await PollStream.once(urls[1], { rooms: room.id, timeout: '30', cursor: empty.body.cursor }, auth);
  assert.ok(Date.now() - started < 5_000, 'answered without waiting for the timeout');
  assert.deepEqual(pending.body.events.map((e) => e.seq), [3, 4, 5]);
  assert.equal(pending.body.cursor, pending.body.events[2]!.cursor);

  const waiting = PollStream.once(urls[0], { rooms: room.id, timeout: '30', cursor: pending.body.cursor }, auth);
  await new Promise((resolve) => setTimeout(resolve, 300));
  await send(1);
  const woken = await waiting;
  assert.deepEqual(woken.body.events.map((e) => e.seq), [6]);
});
