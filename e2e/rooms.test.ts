import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RoomLogEntry, RoomSummary } from '@chat/protocol';
import { ApiClient, SseStream, startTestStack, waitUntil, WsStream, type TestStack } from '@chat/testkit';

let stack: TestStack;
let gateway: string;

before(async () => {
  // Two gateways: membership checks are cached per gateway, and a leave must reach the other one too.
  stack = await startTestStack({ gateways: 2 });
  gateway = stack.gateways[0]!.url;
});
after(() => stack?.stop());

async function history(client: ApiClient, room: string): Promise<RoomLogEntry[]> {
  const result = await client.request<{ messages: RoomLogEntry[] }>('GET', `/api/rooms/${room}/messages`);
  assert.equal(result.status, 200);
  return result.body.messages;
}

async function stored(client: ApiClient, room: string, count: number): Promise<RoomLogEntry[]> {
  return waitUntil(async () => {
    const entries = await history(client, room);
    return entries.length >= count ? entries : undefined;
  }, 10_000, `${count} entries in history`);
}

test('unread counts follow each member’s read position, which only moves forward and never past the end', async () => {
  const alice = await ApiClient.login(gateway, 'read_alice');
  const bob = await ApiClient.login(gateway, 'read_bob');
  const room = await alice.createRoom('reading');
  await bob.joinRoom(room.id);
  for (const id of ['1', '2', '3']) await alice.request('POST', `/api/rooms/${room.id}/messages`, { clientMsgId: id, text: id });
  await stored(bob, room.id, 5);
  const unread = async () => {
    const { body } = await bob.request<{ rooms: RoomSummary[] }>('GET', '/api/rooms');
    return body.rooms.find((r) => r.id === room.id)!;
  };
  // Seqs 1 and 2 are alice's and bob's joins; his own join is no unread entry to him.
  assert.deepEqual(await unread(), { id: room.id, name: 'reading', kind: 'group', lastSeq: 5, unread: 3 });
  const read = (seq: number) => bob.request<{ lastReadSeq: number; unread: number }>('POST', `/api/rooms/${room.id}/read`, { seq });
  assert.deepEqual((await read(4)).body, { lastReadSeq: 4, unread: 1 });
  assert.deepEqual((await read(3)).body, { lastReadSeq: 4, unread: 1 }, 'never backwards');
  assert.deepEqual((await read(99)).body, { lastReadSeq: 5, unread: 0 }, 'never past the last seq');
  assert.equal((await unread()).unread, 0);
  const stranger = await ApiClient.login(gateway, 'read_stranger');
  assert.equal((await stranger.request('POST', `/api/rooms/${room.id}/read`, { seq: 1 })).status, 403);
});

test('a member who leaves stops receiving the room on open streams and can no longer send, on any gateway', async () => {
  const alice = await ApiClient.login(gateway, 'leave_alice');
  const bob = await ApiClient.login(gateway, 'leave_bob');
  const bobElsewhere = Object.assign(new ApiClient(stack.gateways[1]!.url), { token: bob.token, user: bob.user });
  const room = await alice.createRoom('leaving');
  await bob.joinRoom(room.id);
  const stream = await WsStream.forUser(bob);
  await alice.request('POST', `/api/rooms/${room.id}/messages`, { clientMsgId: 'a', text: 'before leaving' });
  await stream.waitForMessages(1);
  // Bob sends through both gateways first, so that each has remembered him as a member.
  assert.equal((await bob.request('POST', `/api/rooms/${room.id}/messages`, { clientMsgId: 'b1', text: 'bob here' })).status, 202);
  assert.equal((await bobElsewhere.request('POST', `/api/rooms/${room.id}/messages`, { clientMsgId: 'b2', text: 'bob there' })).status, 202);
  await stream.waitForMessages(3);

  const left = await bob.request('POST', `/api/rooms/${room.id}/leave`);
  assert.equal(left.status, 200);
  assert.equal((await bob.request('POST', `/api/rooms/${room.id}/messages`, { clientMsgId: 'c1', text: 'x' })).status, 403, 'at once on the gateway he left through');
  // The other gateway learns of it from the member_left event; typing asks the same check and stores nothing.
  await waitUntil(async () => (await bobElsewhere.request('POST', `/api/rooms/${room.id}/typing`)).status === 403 || undefined, 10_000, 'the leave reaches the other gateway');
  assert.equal((await bobElsewhere.request('POST', `/api/rooms/${room.id}/messages`, { clientMsgId: 'c2', text: 'x' })).status, 403);
  await new Promise((resolve) => setTimeout(resolve, 300)); // and bob's stream on the first gateway

  await alice.request('POST', `/api/rooms/${room.id}/messages`, { clientMsgId: 'd', text: 'after leaving' });
  await stored(alice, room.id, 7); // two joins, three messages, the leave, and this
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(stream.messages().map((m) => m.text), ['before leaving', 'bob here', 'bob there']);
  assert.equal(stream.frames.filter((f) => 'seq' in f).at(-1)?.type, 'member_left', 'his own leave is the last event of the room');
  const { body } = await bob.request<{ rooms: RoomSummary[] }>('GET', '/api/rooms');
  assert.ok(!body.rooms.some((r) => r.id === room.id));
  await stream.close();
});

test('a direct conversation is one two-member room, however often and by whichever side it is opened', async () => {
  const alice = await ApiClient.login(gateway, 'dm_alice');
  const bob = await ApiClient.login(gateway, 'dm_bob');
  const carol = await ApiClient.login(gateway, 'dm_carol');
  const bobStream = await WsStream.forUser(bob);

  const first = await alice.request<{ room: { id: string; name: string } }>('POST', '/api/dms', { userId: bob.user.id });
  assert.equal(first.status, 201);
  assert.equal(first.body.room.name, 'dm_alice, dm_bob');
  const again = await alice.request<{ room: { id: string } }>('POST', '/api/dms', { userId: bob.user.id });
  const fromBob = await bob.request<{ room: { id: string } }>('POST', '/api/dms', { userId: alice.user.id });
  assert.equal(again.status, 200);
  assert.equal(again.body.room.id, first.body.room.id);
  assert.equal(fromBob.body.room.id, first.body.room.id);

  const dm = first.body.room.id;
  assert.equal((await carol.request('POST', `/api/rooms/${dm}/join`)).status, 403, 'nobody else joins a direct room');
  assert.equal((await carol.request('GET', `/api/rooms/${dm}/messages`)).status, 403);
  assert.equal((await alice.request('POST', '/api/dms', { userId: alice.user.id })).status, 400);
  assert.equal((await alice.request('POST', '/api/dms', { userId: '00000000-0000-4000-8000-000000000000' })).status, 404);

  await alice.request('POST', `/api/rooms/${dm}/messages`, { clientMsgId: 'hi', text: 'psst' });
  const [message] = await bobStream.waitForMessages(1);
  assert.equal(message!.room, dm, 'an open all-rooms stream picks up the new conversation');
  const { body } = await bob.request<{ rooms: RoomSummary[] }>('GET', '/api/rooms');
  assert.equal(body.rooms.find((r) => r.id === dm)?.kind, 'dm');
  await bobStream.close();
});

test('edits and deletes are later entries of the room log, live and in history, and only the sender may make them', async () => {
  const alice = await ApiClient.login(gateway, 'edit_alice');
  const bob = await ApiClient.login(gateway, 'edit_bob');
  const room = await alice.createRoom('editing');
  await bob.joinRoom(room.id);
  const bobStream = await WsStream.forUser(bob, { rooms: room.id });
  const aliceStream = await WsStream.forUser(alice, { rooms: room.id });

  // Seqs 1 and 2 are alice's and bob's joins: the message is 3.
  aliceStream.send({ type: 'send', room: room.id, clientMsgId: 'm1', text: 'helo' });
  await bobStream.waitFor((f) => f.type === 'message');
  aliceStream.send({ type: 'edit', room: room.id, target: 3, clientMsgId: 'e1', text: 'hello' });
  await bobStream.waitFor((f) => f.type === 'message_edited');

  const notYours = await bob.request<{ error: { code: string } }>('PATCH', `/api/rooms/${room.id}/messages/3`, { clientMsgId: 'x', text: 'mine now' });
  assert.equal(notYours.status, 403);
  assert.equal((await alice.request('PATCH', `/api/rooms/${room.id}/messages/99`, { clientMsgId: 'y', text: 'z' })).status, 404);
  assert.equal((await alice.request('PATCH', `/api/rooms/${room.id}/messages/1`, { clientMsgId: 'j', text: 'z' })).status, 404, 'a join is no message');

  assert.equal((await alice.request('DELETE', `/api/rooms/${room.id}/messages/3`)).status, 202);
  await bobStream.waitFor((f) => f.type === 'message_deleted');
  const live = bobStream.frames.filter((f) => 'seq' in f).map((f) => [f.type, (f as { seq: number }).seq, (f as { target?: number }).target]);
  assert.deepEqual(live, [
    ['message', 3, undefined],
    ['message_edited', 4, 3],
    ['message_deleted', 5, 3],
  ]);

  const entries = await stored(bob, room.id, 5);
  const original = entries[2] as Extract<RoomLogEntry, { type: 'message' }>;
  assert.equal(original.deleted, true);
  assert.equal(original.text, '');
  assert.ok(original.editedAt);
  assert.deepEqual(entries.map((e) => [e.type, e.seq]), [
    ['member_joined', 1],
    ['member_joined', 2],
    ['message', 3],
    ['message_edited', 4],
    ['message_deleted', 5],
  ]);
  assert.equal((entries[3] as Extract<RoomLogEntry, { type: 'message_edited' }>).text, 'hello');
  const editDeleted = await alice.request('PATCH', `/api/rooms/${room.id}/messages/3`, { clientMsgId: 'late', text: 'too late' });
  assert.equal(editDeleted.status, 404, 'a deleted message cannot be edited');
  await Promise.all([bobStream.close(), aliceStream.close()]);
});

test('typing reaches the other members on any transport, is never echoed or stored, and only members may type', async () => {
  const alice = await ApiClient.login(gateway, 'typing_alice');
  const bob = await ApiClient.login(gateway, 'typing_bob');
  const room = await alice.createRoom('typing');
  await bob.joinRoom(room.id);
  const aliceStream = await WsStream.forUser(alice, { rooms: room.id });
  const bobStream = await WsStream.forUser(bob, { rooms: room.id });
  const bobSse = await SseStream.forUser(bob, { rooms: room.id });

  aliceStream.send({ type: 'typing', room: room.id });
  // How fast is the latency benchmark's to measure; here it crosses Kafka on a machine that may be loaded.
  const typing = await bobStream.waitFor((f) => f.type === 'typing', 10_000);
  assert.deepEqual({ ...typing, cursor: undefined }, { type: 'typing', room: room.id, user: alice.user, cursor: undefined });
  assert.equal(typeof (typing as { cursor?: string }).cursor, 'string');
  await waitUntil(() => bobSse.frames.find((f) => f.type === 'typing'), 10_000, 'typing over SSE');

  // The HTTP form, throttled to one per second per user and room.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  assert.equal((await alice.request('POST', `/api/rooms/${room.id}/typing`)).status, 202);
  assert.equal((await alice.request('POST', `/api/rooms/${room.id}/typing`)).status, 202);
  await waitUntil(() => bobStream.frames.filter((f) => f.type === 'typing').length === 2, 10_000, 'the second indicator');
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(bobStream.frames.filter((f) => f.type === 'typing').length, 2, 'the throttled one was dropped');

  assert.equal(aliceStream.frames.filter((f) => f.type === 'typing').length, 0, 'not echoed to the typist');
  assert.deepEqual((await history(bob, room.id)).map((e) => e.type), ['member_joined', 'member_joined'], 'nothing stored but the joins');
  const stranger = await ApiClient.login(gateway, 'typing_stranger');
  assert.equal((await stranger.request('POST', `/api/rooms/${room.id}/typing`)).status, 403);
  await Promise.all([aliceStream.close(), bobStream.close(), bobSse.close()]);
});
