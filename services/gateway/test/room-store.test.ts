// The gateway's Postgres reads that a stream's opening depends on, against a real database.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Pool } from '@chat/db';
import { createTestDatabase, type TestDatabase } from '@chat/testkit';
import { PgRoomStore } from '../src/db/room-store';
import { MemoryRoomStore } from '../src/memory/room-store';
import type { RoomStore } from '../src/ports/room-store';

let db: TestDatabase;
let store: PgRoomStore;

before(async () => {
  db = await createTestDatabase();
  store = new PgRoomStore(db.pool);
});
after(() => db.drop());

test('access to many rooms is read at once: member, not a member, no such room, not a UUID', async () => {
  const alice = await store.upsertUser('alice');
  const bob = await store.upsertUser('bob');
  const shared = (await store.createRoom('shared', alice)).room;
  await store.joinRoom(shared.id, bob);
  const alicesOwn = (await store.createRoom('own', alice)).room;
  const unknown = randomUUID();

  const access = await store.accessMany([shared.id, alicesOwn.id, unknown, 'not-a-uuid'], bob.id);
  assert.deepEqual(
    [...access],
    [
      [shared.id, { membership: 'member', lastSeq: 2 }],
      [alicesOwn.id, { membership: 'not_member', lastSeq: 1 }],
      [unknown, { membership: 'no_room', lastSeq: 0 }],
      ['not-a-uuid', { membership: 'no_room', lastSeq: 0 }],
    ],
  );
  for (const room of [shared.id, alicesOwn.id, unknown]) assert.deepEqual(access.get(room), await store.access(room, bob.id), 'the same as one at a time');
});

test('the most rooms a stream may name, 1,024, take one statement', async () => {
  let statements = 0;
  const counting = { query: (...args: Parameters<Pool['query']>) => (statements++, db.pool.query(...args)) } as unknown as Pool;
  const carol = await store.upsertUser('carol');
  const rooms = [(await store.createRoom('carol\'s', carol)).room.id, ...Array.from({ length: 1_023 }, () => randomUUID())];
  const access = await new PgRoomStore(counting).accessMany(rooms, carol.id);
  assert.equal(statements, 1);
  assert.equal(access.size, 1_024);
  assert.equal(access.get(rooms[0]!)?.membership, 'member');
  assert.equal([...access.values()].filter((a) => a.membership === 'no_room').length, 1_023);
});

test('the in-memory store, which the session unit tests run on, answers as Postgres does', async () => {
  /** One story of users, rooms, joins and leaves; ids are replaced by labels, so two stores' answers compare. */
  async function story(rooms: RoomStore, suffix: string) {
    const labels = new Map<string, string>();
    const label = (id: string, name: string) => (labels.set(id, name), name);
    // When an entry was stored differs from store to store.
    const named = (value: unknown) =>
      JSON.parse(JSON.stringify(value, (key, v: unknown) => (key === 'sentAt' ? 'then' : typeof v === 'string' && labels.has(v) ? labels.get(v) : v)));
    const [ann, ben, cat] = await Promise.all(['ann', 'ben', 'cat'].map((name) => rooms.upsertUser(`${name}-${suffix}`)));
    label(ann!.id, 'ann');
    label(ben!.id, 'ben');
    label(cat!.id, 'cat');
    const again = await rooms.upsertUser(`ann-${suffix}`);
    const created = await rooms.createRoom('group', ann!);
    const group = created.room;
    label(group.id, 'group');
    const answers: unknown[] = [again.id === ann!.id, created];
    answers.push(await rooms.joinRoom(group.id, ben!), await rooms.joinRoom(group.id, ben!));
    const dm = await rooms.openDirectRoom(ann!, ben!.id);
    label(dm!.room.id, 'dm');
    answers.push(dm, await rooms.openDirectRoom(ben!, ann!.id), await rooms.openDirectRoom(ann!, randomUUID()));
    answers.push(await rooms.joinRoom(dm!.room.id, cat!), await rooms.joinRoom(randomUUID(), cat!));
    answers.push(await rooms.markRead(group.id, ben!.id, 10));
    answers.push(await rooms.leaveRoom(group.id, ben!), await rooms.leaveRoom(group.id, ben!), await rooms.joinRoom(group.id, ben!));
    answers.push(await rooms.leaveRoom(dm!.room.id, ben!), await rooms.openDirectRoom(ann!, ben!.id), await rooms.openDirectRoom(ann!, ben!.id));
    for (const user of [ann!, ben!, cat!]) answers.push(await rooms.listRooms(user.id), (await rooms.roomIdsOf(user.id)).map((id) => labels.get(id)).sort());
    answers.push(await rooms.members(group.id), [...(await rooms.accessMany([group.id, dm!.room.id], cat!.id))]);
    answers.push(await rooms.messagesAfter(group.id, 0, 10), await rooms.latestMessages(group.id, 10), await rooms.messageTarget(group.id, 1));
    answers.push(await rooms.messagesAfter(dm!.room.id, 0, 10), await rooms.messagesBefore(group.id, 3, 10));
    await assert.rejects(rooms.markRead(group.id, cat!.id, 1), /not a member/);
    return named(answers);
  }
  const suffix = randomUUID().slice(0, 8);
  assert.deepEqual(await story(new MemoryRoomStore(), suffix), await story(store, suffix));
});
