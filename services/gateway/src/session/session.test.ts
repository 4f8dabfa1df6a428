// The session core alone: a Hub, the in-memory RoomStore and a recording output, no Kafka, no Postgres, no
// transport (compare centrifuge's hub_test.go). Each test drives the feed by hand through the hub, as the feed
// router does, and reads what the stream would have sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCursor, DISCONNECT, type Disconnect, type UserRef } from '@chat/protocol';
import type { Logger } from '@chat/runtime';
import { MemoryRoomStore } from '../memory/room-store';
import { MAX_HOLE_ROUNDS } from './catch-up';
import { Hub } from './hub';
import type { OutgoingEvent } from './outgoing-event';
import { Session, type StreamOutput } from './session';
import { TailCheck } from './tail-check';
import { planStream } from './stream-plan';

const alice: UserRef = { id: '00000000-0000-4000-8000-0000000000a1', name: 'alice' };
const bob: UserRef = { id: '00000000-0000-4000-8000-0000000000b0', name: 'bob' };

/** A stream output that keeps what it was given. */
class RecordingOutput implements StreamOutput {
  readonly events: OutgoingEvent[] = [];
  readonly closes: Disconnect[] = [];

  push(event: OutgoingEvent): void {
    this.events.push(event);
  }

  close(disconnect: Disconnect): void {
    this.closes.push(disconnect);
  }

  /** The seqs of one room's log entries, in the order sent. */
  seqs(room: string): number[] {
    return this.events
      .filter((event) => event.type !== 'ready' && event.type !== 'presence' && event.type !== 'typing')
      .map((event) => JSON.parse(event.json) as { room: string; seq: number })
      .filter((entry) => entry.room === room)
      .map((entry) => entry.seq);
  }

  get cursor(): Map<string, number> {
    return decodeCursor(this.events.at(-1)!.cursor);
  }
}

function recordingLogger() {
  const errors: Array<Record<string, unknown>> = [];
  const logger = { warn() {}, info() {}, debug() {}, error: (fields: Record<string, unknown>) => errors.push(fields) } as unknown as Logger;
  return { logger, errors };
}

/** Lets the session's pending reads and deliveries run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

function setUp(options: { pageSize?: number } = {}) {
  const hub = new Hub();
  const store = new MemoryRoomStore();
  const { logger, errors } = recordingLogger();
  const output = new RecordingOutput();
  const session = new Session({ user: alice, expiresAt: Infinity, issuedAt: 0 }, { hub, store, logger, pageSize: options.pageSize }, output);
  /** Opens the stream as a transport does: plan (access, start positions), then begin. */
  const open = async (rooms: string[] | undefined, cursor: Map<string, number> = new Map()) => {
    session.begin(await planStream(store, alice.id, rooms, cursor));
    await settle();
  };
  return { hub, store, output, session, errors, open };
}

test('live events that arrive while history is read wait, then follow it: in order, none twice', async () => {
  const { hub, store, output, open } = setUp();
  const room = store.addRoom('general', [alice.id, bob.id]).id;
  for (let i = 0; i < 3; i++) store.appendMessage(room, bob);
  const release = store.hold();
  await open([room], new Map([[room, 0]]));
  assert.deepEqual(output.seqs(room), [], 'nothing before history is read');

  const third = { ...(await store.messagesAfter(room, 2, 1))[0]! };
  hub.deliver({ type: 'message', room, seq: 3, json: JSON.stringify(third) }); // also in history: a repeat
  hub.deliver(store.appendMessage(room, bob));
  hub.deliver(store.appendMessage(room, bob));
  release();
  await settle();
  assert.deepEqual(output.seqs(room), [1, 2, 3, 4, 5]);
  assert.deepEqual(output.cursor, new Map([[room, 5]]));

  hub.deliver(store.appendMessage(room, bob));
  assert.deepEqual(output.seqs(room), [1, 2, 3, 4, 5, 6], 'live from then on, without a read');
  assert.equal(store.catchUpReads, 1);
});

test('a gap longer than a page is read page by page before the events buffered meanwhile', async () => {
  const { hub, store, output, open } = setUp({ pageSize: 2 });
  const room = store.addRoom('general', [alice.id]).id;
  for (let i = 0; i < 5; i++) store.appendMessage(room, bob);
  const release = store.hold();
  await open([room], new Map([[room, 0]]));
  hub.deliver(store.appendMessage(room, bob));
  release();
  await settle();
  assert.deepEqual(output.seqs(room), [1, 2, 3, 4, 5, 6]);
  assert.equal(store.catchUpReads, 4, 'pages [1,2], [3,4], [5,6] (6 is stored by then), and one that finds no more');
});

test('a hole in the live feed (a record this gateway missed) is filled from history before what follows it', async () => {
  const { hub, store, output, open } = setUp();
  const room = store.addRoom('general', [alice.id]).id;
  await open([room]);
  hub.deliver(store.appendMessage(room, bob));
  store.appendMessage(room, bob); // seq 2 never reaches this gateway's feed
  hub.deliver(store.appendMessage(room, bob));
  hub.deliver(store.appendMessage(room, bob));
  await settle();
  assert.deepEqual(output.seqs(room), [1, 2, 3, 4]);
});

test(`a live event past rows history never shows is held for ${MAX_HOLE_ROUNDS} more reads, then the stream ends for a resync from its cursor`, async () => {
  const { hub, store, output, errors, open } = setUp();
  const room = store.addRoom('general', [alice.id]).id;
  await open([room]);
  hub.deliver(store.appendMessage(room, bob));
  store.appendMessage(room, bob);
  store.lose(room, 2);
  const third = store.appendMessage(room, bob);
  store.lose(room, 3); // not in history yet (as if a read saw Postgres before the commit), but on the feed
  const readsBefore = store.catchUpReads;
  hub.deliver(third);
  await settle();
  assert.deepEqual(output.seqs(room), [1], 'nothing past the gap');
  assert.equal(store.catchUpReads - readsBefore, 1 + MAX_HOLE_ROUNDS, 'bounded: it does not read for ever');
  assert.deepEqual(output.closes, [DISCONNECT.resync]);
  assert.deepEqual(output.cursor, new Map([[room, 1]]), 'the cursor the client resumes from is before the gap');
  assert.deepEqual(errors.map(({ room: r, position }) => ({ r, position })), [{ r: room, position: 1 }]);

  hub.deliver(store.appendMessage(room, bob));
  await settle();
  assert.deepEqual(output.seqs(room), [1], 'an ended stream delivers nothing more');
});

test('a subscribe during a catch-up is caught up too; an unsubscribe stops the room at once, its position kept', async () => {
  const { store, output, session, open } = setUp();
  const first = store.addRoom('first', [alice.id]).id;
  const second = store.addRoom('second', [alice.id]).id;
  for (let i = 0; i < 2; i++) store.appendMessage(first, bob);
  for (let i = 0; i < 3; i++) store.appendMessage(second, bob);
  const release = store.hold();
  await open([first], new Map([[first, 0]]));
  const subscribed = session.addRooms((await planStream(store, alice.id, [second], new Map([[second, 1]]))).positions);
  session.removeRooms([first]);
  release();
  await subscribed;
  await settle();
  assert.deepEqual(output.seqs(first), [], 'unsubscribed before its history arrived');
  assert.deepEqual(output.seqs(second), [2, 3]);
  assert.deepEqual(output.cursor, new Map([[first, 0], [second, 3]]));
  assert.deepEqual(session.carriedPositions, new Map([[first, 0]]), 'a later subscribe resumes the first room from there');
});

test('a stream of named rooms ignores its user joining another room', async () => {
  const { hub, store, output, open } = setUp();
  const named = store.addRoom('named', [alice.id]).id;
  await open([named]);
  const other = store.addRoom('other', [alice.id]).id;
  hub.memberJoined(alice.id, other, 0);
  hub.deliver(store.appendMessage(other, bob));
  await settle();
  assert.deepEqual(output.seqs(other), []);
  assert.deepEqual(output.cursor, new Map([[named, 0]]));
});

test('history that cannot be read ends the stream, to be resumed with its cursor; a closed stream reads on for nobody', async () => {
  const failing = setUp();
  const room = failing.store.addRoom('general', [alice.id]).id;
  failing.store.appendMessage(room, bob);
  failing.store.failNextRead();
  await failing.open([room], new Map([[room, 0]]));
  assert.deepEqual(failing.output.closes, [DISCONNECT.unavailable]);
  assert.deepEqual(failing.output.seqs(room), []);

  const closing = setUp();
  const other = closing.store.addRoom('general', [alice.id]).id;
  closing.store.appendMessage(other, bob);
  const release = closing.store.hold();
  await closing.open([other], new Map([[other, 0]]));
  closing.session.close();
  release();
  closing.hub.deliver(closing.store.appendMessage(other, bob));
  await settle();
  assert.deepEqual(closing.output.seqs(other), []);
  assert.equal(closing.hub.hasListeners(other), false);
});

test("the tail check: a quiet room's last entry lost from the feed is read within the interval, with no further traffic", async () => {
  const { hub, store, output, open, session } = setUp();
  const room = store.addRoom('quiet', [alice.id]).id;
  const other = store.addRoom('busy', [alice.id]).id;
  await open([room, other]);
  hub.deliver(store.appendMessage(room, bob));
  store.appendMessage(room, bob); // its record never reaches this gateway, and the room goes quiet
  hub.deliver(store.appendMessage(other, bob));
  const check = new TailCheck({ hub, store, logger: recordingLogger().logger, intervalMs: 20, graceMs: 10 });
  check.start();
  try {
    const deadline = performance.now() + 1_000;
    while (output.seqs(room).length < 2 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.deepEqual(output.seqs(room), [1, 2]);
    assert.deepEqual(output.seqs(other), [1], 'a room the feed kept up with is not read again');
    assert.ok(store.lastSeqReads >= 1);
    const reads = store.catchUpReads;
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(store.catchUpReads, reads, 'once caught up, later checks read no history');
  } finally {
    check.stop();
    session.close();
  }
});

test('the tail check asks Postgres once per round for all the rooms with streams here, and waits out the feed first', async () => {
  const { hub, store, output, open } = setUp();
  const rooms = [0, 1, 2].map((i) => store.addRoom(`room ${i}`, [alice.id]).id);
  await open(rooms);
  const check = new TailCheck({ hub, store, logger: recordingLogger().logger, intervalMs: 1_000, graceMs: 30 });
  const record = store.appendMessage(rooms[0]!, bob);
  const round = check.check();
  // The record arrives within the grace: the feed was only slower than Postgres.
  setTimeout(() => hub.deliver(record), 5);
  assert.deepEqual(await round, []);
  assert.equal(store.lastSeqReads, 1);
  assert.deepEqual(output.seqs(rooms[0]!), [1]);
  const readsBefore = store.catchUpReads;
  store.appendMessage(rooms[1]!, bob);
  assert.deepEqual(await check.check(), [rooms[1]]);
  await settle();
  assert.deepEqual(output.seqs(rooms[1]!), [1]);
  assert.equal(store.catchUpReads - readsBefore, 1);
  assert.equal(store.lastSeqReads, 2);
});
