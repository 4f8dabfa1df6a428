// Joins and leaves as entries of the room's log, on one gateway: the feed router, the hub and real sessions over the
// in-memory store, no Kafka, no Postgres. A record "lost" is one the test never routes, as a publish that failed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCursor, type Disconnect, type UserRef } from '@chat/protocol';
import type { Logger } from '@chat/runtime';
import { FeedRouter } from './feed-router';
import { feedRecord, MemoryRoomStore } from './memory/room-store';
import { Hub } from './session/hub';
import { MembershipCache } from './session/membership-cache';
import type { OutgoingEvent } from './session/outgoing-event';
import { Session, type StreamOutput } from './session/session';
import { planStream } from './session/stream-plan';

const alice: UserRef = { id: '00000000-0000-4000-8000-0000000000a1', name: 'alice' };
const bob: UserRef = { id: '00000000-0000-4000-8000-0000000000b0', name: 'bob' };
const carol: UserRef = { id: '00000000-0000-4000-8000-0000000000c0', name: 'carol' };

class RecordingOutput implements StreamOutput {
  readonly events: OutgoingEvent[] = [];
  readonly closes: Disconnect[] = [];

  push(event: OutgoingEvent): void {
    this.events.push(event);
  }

  close(disconnect: Disconnect): void {
    this.closes.push(disconnect);
  }

  /** One room's log entries as sent, `seq type` each. */
  entries(room: string): string[] {
    return this.events
      .filter((event) => event.type !== 'ready' && event.type !== 'presence' && event.type !== 'typing')
      .map((event) => JSON.parse(event.json) as { room: string; seq: number; type: string })
      .filter((entry) => entry.room === room)
      .map((entry) => `${entry.seq} ${entry.type}`);
  }

  ephemeral(room: string): string[] {
    return this.events.filter((event) => event.type === 'typing' && (JSON.parse(event.json) as { room: string }).room === room).map((event) => event.type);
  }

  get cursor(): Map<string, number> {
    return decodeCursor(this.events.at(-1)!.cursor);
  }
}

const logger = { warn() {}, info() {}, debug() {}, error() {} } as unknown as Logger;

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** One gateway: its hub, membership cache and feed router, and streams opened on it as the transports open them. */
function gateway() {
  const hub = new Hub();
  const store = new MemoryRoomStore();
  const memberCache = new MembershipCache(store);
  const router = new FeedRouter({ hub, memberCache, store, presence: { onlineUser: () => undefined }, observeDelivery: () => {}, logger, signOuts: { record: () => {} } });
  const deps = { hub, store, logger, onMembershipRead: (entry: Parameters<FeedRouter['membershipRead']>[0]) => router.membershipRead(entry) };
  const open = async (user: UserRef, rooms?: string[], cursor: Map<string, number> = new Map()) => {
    const output = new RecordingOutput();
    const session = new Session({ user, expiresAt: Infinity, issuedAt: 0 }, deps, output);
    session.begin(await planStream(store, user.id, rooms, cursor));
    await settle();
    return { output, session };
  };
  /** The record of a stored entry, routed as the event feed routes it. */
  const route = (record: ReturnType<typeof feedRecord> | null) => router.route({ kind: 'entry', ...record! });
  const typing = (room: string, user: UserRef) =>
    router.route({ kind: 'typing', room, userId: user.id, json: JSON.stringify({ type: 'typing', room, user }) });
  return { hub, store, memberCache, router, open, route, typing };
}

test('a leave whose record never reaches this gateway ends the room on the leaver\'s streams at its seq, once the next entry arrives', async () => {
  const { store, memberCache, open, route, typing } = gateway();
  const room = (await store.createRoom('general', bob)).room.id; // 1: bob joined
  route(store.changeMembership(room, alice, 'member_joined')); // 2
  const named = await open(alice, [room]);
  const all = await open(alice);
  const bobs = await open(bob, [room]);
  assert.equal(await memberCache.membership(room, alice.id), 'member', 'remembered, as a send through this gateway would');

  store.changeMembership(room, alice, 'member_left'); // 3, published through another gateway, and lost
  typing(room, bob);
  assert.deepEqual(named.output.ephemeral(room), ['typing'], 'nothing tells this gateway of the leave yet');
  route(store.appendMessage(room, bob)); // 4: a hole at 3 for every stream of the room
  await settle();
  for (const stream of [named, all]) {
    assert.deepEqual(stream.output.entries(room), ['3 member_left'], 'the leave is the last entry of the room, and 4 is not shown');
  }
  assert.deepEqual(bobs.output.entries(room), ['3 member_left', '4 message']);
  assert.equal(await memberCache.membership(room, alice.id), 'not_member', 'the entry read from history made sends checked again');

  route(store.appendMessage(room, bob));
  typing(room, bob);
  await settle();
  assert.deepEqual(named.output.entries(room), ['3 member_left']);
  assert.deepEqual(named.output.ephemeral(room), ['typing'], 'no typing after the leave either');
});

test('an all-rooms stream adds a room its user joins from the join entry on; a stream of named rooms does not', async () => {
  const { store, open, route } = gateway();
  const own = (await store.createRoom('own', alice)).room.id;
  const all = await open(alice);
  const named = await open(alice, [own]);
  const joined = (await store.createRoom('joined', bob)).room.id;
  route(store.appendMessage(joined, bob)); // 2, before the join: not for alice
  const { joined: entry } = (await store.joinRoom(joined, alice))!;
  route(feedRecord(entry!)); // 3
  await settle();
  route(store.appendMessage(joined, bob)); // 4
  await settle();
  assert.deepEqual(all.output.entries(joined), ['3 member_joined', '4 message']);
  assert.deepEqual(named.output.entries(joined), []);
  assert.deepEqual(all.output.cursor, new Map([[own, 1], [joined, 4]]));
});

test('leaving and joining again switch the room off and on at their seqs, whether the entries come live or from history', async () => {
  const { store, open, route } = gateway();
  const room = (await store.createRoom('general', bob)).room.id; // 1
  route(store.changeMembership(room, alice, 'member_joined')); // 2
  const live = await open(alice);
  route(store.appendMessage(room, bob, 'for alice')); // 3
  route(store.changeMembership(room, alice, 'member_left')); // 4
  route(store.appendMessage(room, bob, 'not for alice')); // 5
  route(store.changeMembership(room, alice, 'member_joined')); // 6
  route(store.appendMessage(room, bob, 'for alice again')); // 7
  await settle();
  const expected = ['3 message', '4 member_left', '6 member_joined', '7 message'];
  assert.deepEqual(live.output.entries(room), expected);

  // A stream resuming from before all that reads it from history, and is switched off and on at the same seqs.
  const resumed = await open(alice, undefined, new Map([[room, 2]]));
  assert.deepEqual(resumed.output.entries(room), expected);
  const named = await open(alice, [room], new Map([[room, 2]]));
  assert.deepEqual(named.output.entries(room), expected);
});

test('a join whose record was lost reaches the joiner\'s all-rooms stream when another stream reads it from history; an old join does not', async () => {
  const { store, open, route } = gateway();
  const room = (await store.createRoom('general', bob)).room.id; // 1
  store.changeMembership(room, carol, 'member_joined'); // 2
  store.changeMembership(room, carol, 'member_left'); // 3
  const bobs = await open(bob, [room]);
  const alices = await open(alice);
  const carols = await open(carol);
  store.changeMembership(room, alice, 'member_joined'); // 4, lost
  route(store.appendMessage(room, bob)); // 5
  await settle();
  assert.deepEqual(bobs.output.entries(room), ['4 member_joined', '5 message']);
  assert.deepEqual(alices.output.entries(room), ['4 member_joined', '5 message'], 'bob\'s stream read the join, and alice\'s added the room');

  const late = await open(bob, [room], new Map([[room, 0]])); // reads carol's join and leave from history
  assert.equal(late.output.entries(room).length, 5);
  assert.deepEqual(carols.output.entries(room), [], 'carol is no member: her stream does not add the room for an old join');
});

test('the membership records of gateways of the previous release still add and drop rooms during a rolling upgrade', async () => {
  const { store, router, open, route } = gateway();
  const room = (await store.createRoom('general', bob)).room.id; // 1
  const all = await open(alice);
  await store.joinRoom(room, alice); // 2 in this store; a gateway of that release logs nothing, and says it on the feed so
  router.route({ kind: 'legacy_member_joined', room, userId: alice.id, lastSeq: 2 });
  await settle();
  route(store.appendMessage(room, bob)); // 3
  await settle();
  assert.deepEqual(all.output.entries(room), ['3 message']);
  router.route({ kind: 'legacy_member_left', room, userId: alice.id });
  route(store.appendMessage(room, bob)); // 4
  await settle();
  assert.deepEqual(all.output.entries(room), ['3 message']);
});
