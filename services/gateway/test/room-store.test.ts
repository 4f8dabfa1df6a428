// The gateway's Postgres reads that a stream's opening depends on, against a real database.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Pool } from '@chat/db';
import { createTestDatabase, type TestDatabase } from '@chat/testkit';
import { PgRoomStore } from '../src/db/room-store';

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
  const shared = await store.createRoom('shared', alice);
  await store.joinRoom(shared.id, bob);
  const alicesOwn = await store.createRoom('own', alice);
  const unknown = randomUUID();

  const access = await store.accessMany([shared.id, alicesOwn.id, unknown, 'not-a-uuid'], bob.id);
  assert.deepEqual(
    [...access],
    [
      [shared.id, { membership: 'member', lastSeq: 0 }],
      [alicesOwn.id, { membership: 'not_member', lastSeq: 0 }],
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
  const rooms = [(await store.createRoom('carol\'s', carol)).id, ...Array.from({ length: 1_023 }, () => randomUUID())];
  const access = await new PgRoomStore(counting).accessMany(rooms, carol.id);
  assert.equal(statements, 1);
  assert.equal(access.size, 1_024);
  assert.equal(access.get(rooms[0]!)?.membership, 'member');
  assert.equal([...access.values()].filter((a) => a.membership === 'no_room').length, 1_023);
});
