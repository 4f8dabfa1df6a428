import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RoomAccess } from '../ports/access';
import type { RoomStore } from '../ports/room-store';
import { parseRoomList, planStream } from './stream-plan';

const rooms = Array.from({ length: 1_024 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);

/** A stand-in store answering access reads from a table (a pure unit test of the plan). */
function storeWith(access: (room: string) => RoomAccess) {
  const reads: string[][] = [];
  const store = {
    accessMany: async (ids: readonly string[]) => {
      reads.push([...ids]);
      return new Map(ids.map((id) => [id, access(id)]));
    },
  } as unknown as RoomStore;
  return { store, reads };
}

test('a stream naming the most rooms it may checks them all in one read, and starts each after the cursor or from now', async () => {
  const { store, reads } = storeWith(() => ({ membership: 'member', lastSeq: 7 }));
  const plan = await planStream(store, 'user', rooms, new Map([[rooms[0]!, 3]]));
  assert.equal(reads.length, 1);
  assert.equal(reads[0]!.length, 1_024);
  assert.equal(plan.positions.get(rooms[0]!), 3);
  assert.equal(plan.positions.get(rooms[1]!), 7);
});

test('a room the user may not read refuses the whole stream: 404 for no such room, 403 for not a member', async () => {
  const { store } = storeWith((room) => ({ membership: room === rooms[5] ? 'no_room' : room === rooms[9] ? 'not_member' : 'member', lastSeq: 0 }));
  await assert.rejects(planStream(store, 'user', rooms.slice(0, 6), new Map()), { code: 'not_found' });
  await assert.rejects(planStream(store, 'user', rooms.slice(6, 10), new Map()), { code: 'forbidden' });
});

test('a room list is trimmed, lower-cased and deduplicated, and must name 1 to 1,024 rooms', () => {
  assert.deepEqual(parseRoomList(` ${rooms[0]!.toUpperCase()} ,${rooms[0]},,${rooms[1]}`), [rooms[0], rooms[1]]);
  assert.throws(() => parseRoomList(' , '), { code: 'invalid_input' });
  assert.throws(() => parseRoomList([...rooms, rooms[0]!.replace('0000-4000', '0001-4000')].join(',')), { code: 'invalid_input' });
});
