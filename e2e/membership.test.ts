// Joins and leaves are entries of the room's log: written with the membership change, published best effort, and
// acted on by every stream in seq order, however the entry reaches it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RoomLogEntry } from '@chat/protocol';
import {
  ApiClient,
  createTestTopics,
  SseStream,
  startService,
  startTestStack,
  waitUntil,
  WsStream,
  type RunningService,
  type StreamFrame,
  type TestStack,
} from '@chat/testkit';

let stack: TestStack;
/** A gateway on the stack's database whose Kafka records go to topics nobody else reads: every publish of it is lost. */
let isolated: RunningService;

before(async () => {
  stack = await startTestStack({ gateways: 2 });
  const elsewhere = await createTestTopics();
  isolated = await startService('gateway', { ...stack.env, KAFKA_TOPIC_PREFIX: elsewhere.prefix, INSTANCE_ID: `${elsewhere.prefix}gw` });
});
after(async () => {
  await isolated?.kill();
  await stack?.stop();
});

/** The same user through another gateway. */
function via(client: ApiClient, baseUrl: string): ApiClient {
  return Object.assign(new ApiClient(baseUrl), { token: client.token, user: client.user });
}

type Entry = { type: string; room: string; seq: number; text?: string; user?: { id: string } };
const isEntry = (frame: { type: string }): frame is Entry & StreamFrame => 'seq' in frame && typeof (frame as { seq?: unknown }).seq === 'number';
const entriesOf = (frames: ReadonlyArray<{ type: string }>, room: string) => frames.filter(isEntry).filter((f) => f.room === room);
const shown = (entries: Entry[]) => entries.map((e) => (e.type === 'message' ? `${e.seq} ${e.text}` : `${e.seq} ${e.type}`));

async function storedLog(room: string): Promise<Array<{ seq: number; kind: string; sender_id: string; text: string }>> {
  const { rows } = await stack.db.pool.query('SELECT seq, kind, sender_id, text FROM messages WHERE room_id = $1 ORDER BY seq', [room]);
  return rows;
}

test('a leave whose publish never reaches the other gateway ends the room there on the leaver\'s streams at its seq, once the room\'s next entry arrives', async () => {
  const gateway = stack.gateways[0]!.url;
  const alice = await ApiClient.login(gateway, 'lost_alice');
  const bob = await ApiClient.login(gateway, 'lost_bob');
  const room = await alice.createRoom('lost leave');
  await bob.joinRoom(room.id);
  const everyRoom = await WsStream.forUser(bob);
  const named = await SseStream.forUser(bob, { rooms: room.id });
  const watcher = await WsStream.forUser(alice, { rooms: room.id });
  // Bob sends through this gateway first, so that it has remembered him as a member.
  assert.equal((await bob.request('POST', `/api/rooms/${room.id}/messages`, { clientMsgId: 'b1', text: 'bob here' })).status, 202);
  await Promise.all([everyRoom.waitForMessages(1), named.waitForMessages(1), watcher.waitForMessages(1)]);

  assert.equal((await via(bob, isolated.url).request('POST', `/api/rooms/${room.id}/leave`)).status, 200);
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(entriesOf(watcher.frames, room.id).length, 1, 'the leave\'s record reached no stream: it was lost');

  assert.equal((await alice.request('POST', `/api/rooms/${room.id}/messages`, { clientMsgId: 'a1', text: 'after the leave' })).status, 202);
  await watcher.waitForMessages(2);
  await new Promise((resolve) => setTimeout(resolve, 300));
  for (const [name, stream] of [['WebSocket of all rooms', everyRoom], ['SSE of the room', named]] as const) {
    assert.deepEqual(shown(entriesOf(stream.frames, room.id)), ['3 bob here', '4 member_left'], `bob's ${name}: the leave is the room's last entry`);
  }
  assert.deepEqual(shown(entriesOf(watcher.frames, room.id)), ['3 bob here', '4 member_left', '5 after the leave']);
  const refused = await bob.request('POST', `/api/rooms/${room.id}/messages`, { clientMsgId: 'b2', text: 'still here?' });
  assert.equal(refused.status, 403, 'the gateway forgot him as a member when its streams read the leave');
  const log = await storedLog(room.id);
  assert.deepEqual(log[3], { seq: 4, kind: 'member_left', sender_id: bob.user.id, text: '' }, 'the leave is in the room\'s log');
  await Promise.all([everyRoom.close(), named.close(), watcher.close()]);
});

test('with sends, joins and leaves at once in one room the log stays dense, and every stream sees the joins and leaves in seq order between the messages', async () => {
  const gateways = stack.gateways.map((g) => g.url);
  const owner = await ApiClient.login(gateways[0]!, 'busy_owner');
  const room = await owner.createRoom('busy');
  const watchers = [await WsStream.forUser(owner, { rooms: room.id }), await SseStream.forUser(via(owner, gateways[1]!), { rooms: room.id })];
  const senders = await Promise.all(['busy_s1', 'busy_s2'].map((name, i) => ApiClient.login(gateways[i]!, name)));
  const churners = await Promise.all(['busy_c1', 'busy_c2', 'busy_c3', 'busy_c4'].map((name, i) => ApiClient.login(gateways[i % 2]!, name)));
  for (const sender of senders) await sender.joinRoom(room.id);
  // Each churner's stream covers all its rooms, and opened before its first join: the join adds the room to it.
  const churnStreams = await Promise.all(churners.map((churner, i) => WsStream.forUser(via(churner, gateways[(i + 1) % 2]!))));
  for (const [i, churner] of churners.entries()) {
    await churner.joinRoom(room.id);
    await churnStreams[i]!.waitFor((f) => f.type === 'member_joined' && (f as Entry).user?.id === churner.user.id, 10_000, 'the room added');
  }
  const afterSetUp = (await storedLog(room.id)).length;

  const MESSAGES = 40;
  const CYCLES = 5;
  await Promise.all([
    ...senders.map(async (sender, s) => {
      for (let n = 0; n < MESSAGES; n++) {
        const { status } = await via(sender, gateways[n % 2]!).request('POST', `/api/rooms/${room.id}/messages`, { clientMsgId: `s${s}-${n}`, text: `s${s}-${n}` });
        assert.equal(status, 202);
      }
    }),
    ...churners.map(async (churner) => {
      for (let n = 0; n < CYCLES; n++) {
        assert.equal((await via(churner, gateways[n % 2]!).request('POST', `/api/rooms/${room.id}/leave`)).status, 200);
        assert.equal((await via(churner, gateways[(n + 1) % 2]!).request('POST', `/api/rooms/${room.id}/join`)).status, 200);
      }
      assert.equal((await churner.request('POST', `/api/rooms/${room.id}/leave`)).status, 200);
    }),
  ]);
  const sends = senders.length * MESSAGES;
  const total = afterSetUp + sends + churners.length * (CYCLES * 2 + 1);
  // Every send acknowledged is stored a moment later; joins and leaves are stored when answered.
  const log = await waitUntil(async () => {
    const stored = await storedLog(room.id);
    return stored.filter((row) => row.kind === 'message').length >= sends ? stored : undefined;
  }, 30_000, `${sends} messages stored`);
  assert.equal(log.length, total, 'the log holds every send, join and leave');
  assert.deepEqual(log.map((row) => row.seq), Array.from({ length: total }, (_, i) => i + 1), 'dense: every seq once, none skipped');
  const { rows } = await stack.db.pool.query<{ last_seq: number }>('SELECT last_seq FROM rooms WHERE id = $1', [room.id]);
  assert.equal(rows[0]!.last_seq, total);

  /** What a stream of the room shows once every entry has reached it: the entries after `from`, in order, as stored. */
  const complete = (stream: { frames: ReadonlyArray<{ type: string }> }, from: number, count: number) =>
    waitUntil(() => {
      const entries = entriesOf(stream.frames, room.id).filter((e) => e.seq > from);
      return entries.length >= count ? entries : undefined;
    }, 30_000, `${count} entries on a stream`);

  // The watchers were members throughout: each sees the whole log after its start.
  const expected = log.filter((row) => row.seq > afterSetUp);
  for (const watcher of watchers) {
    const seen = await complete(watcher, afterSetUp, expected.length);
    assert.deepEqual(seen.map((e) => [e.seq, e.type]), expected.map((row) => [row.seq, row.kind]));
  }

  // A churner's stream shows the room exactly while the churner is a member: from each join of its own to its leave.
  for (const [i, churner] of churners.entries()) {
    const own = log.filter((row) => row.sender_id === churner.user.id);
    const periods = own.filter((row) => row.kind === 'member_joined').map((joined) => [joined.seq, own.find((row) => row.seq > joined.seq)!.seq]);
    const during = log.filter((row) => periods.some(([from, to]) => row.seq >= from! && row.seq <= to!));
    const seen = await complete(churnStreams[i]!, 0, during.length);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(
      entriesOf(churnStreams[i]!.frames, room.id).map((e) => [e.seq, e.type]),
      during.map((row) => [row.seq, row.kind]),
      `${churner.user.name}: in order, none twice, nothing from outside ${JSON.stringify(periods)}`,
    );
    assert.equal(seen.at(-1)!.type, 'member_left', 'the last entry shown is their last leave');
  }
  await Promise.all([...watchers, ...churnStreams].map((stream) => stream.close()));
});

test('joins and leaves are returned by history, in seq order with the messages', async () => {
  const alice = await ApiClient.login(stack.gateways[0]!.url, 'history_alice');
  const bob = await ApiClient.login(stack.gateways[1]!.url, 'history_bob');
  const room = await alice.createRoom('history');
  await bob.joinRoom(room.id);
  const history = (count: number) =>
    waitUntil(async () => {
      const { body } = await alice.request<{ messages: RoomLogEntry[] }>('GET', `/api/rooms/${room.id}/messages`);
      return body.messages.length >= count ? body.messages : undefined;
    }, 10_000, `${count} entries in history`);
  await alice.request('POST', `/api/rooms/${room.id}/messages`, { clientMsgId: 'hi', text: 'hi bob' });
  await history(3); // acknowledged once in Kafka; stored a moment later
  await bob.request('POST', `/api/rooms/${room.id}/leave`);
  const entries = await history(4);
  assert.deepEqual(
    entries.map((e) => ('user' in e ? [e.seq, e.type, e.user.name] : [e.seq, e.type, e.sender.name])),
    [
      [1, 'member_joined', 'history_alice'],
      [2, 'member_joined', 'history_bob'],
      [3, 'message', 'history_alice'],
      [4, 'member_left', 'history_bob'],
    ],
  );
  assert.deepEqual(Object.keys(entries[3]!).sort(), ['room', 'sentAt', 'seq', 'type', 'user']);
});
