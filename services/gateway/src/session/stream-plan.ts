import { canonicalUuid, CursorError, decodeCursor, MAX_CURSOR_ROOMS } from '@chat/protocol';
import { ClientError } from '@chat/runtime';
import { requireMembership } from '../ports/access';
import type { RoomStore } from '../ports/room-store';

export interface StreamPlan {
  /** Rooms the stream covers, each with the seq to continue after. */
  positions: Map<string, number>;
  /** Cursor positions of rooms outside the stream: handed back unchanged in every cursor. */
  carried: Map<string, number>;
  /** True when the stream covers all the user's rooms (no `rooms` given). */
  allRooms: boolean;
}

export function parseRoomList(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const rooms = [...new Set(raw.split(',').map((room) => canonicalUuid(room.trim())).filter(Boolean))];
  if (rooms.length === 0) throw new ClientError('invalid_input', 'rooms must name at least one room');
  if (rooms.length > MAX_CURSOR_ROOMS) throw new ClientError('invalid_input', `at most ${MAX_CURSOR_ROOMS} rooms per stream`);
  return rooms;
}

export function parseCursor(raw: string | undefined): Map<string, number> {
  if (raw === undefined || raw === '') return new Map();
  try {
    return decodeCursor(raw);
  } catch (error) {
    if (error instanceof CursorError) throw new ClientError('invalid_cursor', `invalid cursor: ${error.message}`);
    throw error;
  }
}

/**
 * Checks access to every requested room and decides where each one starts:
 * after the cursor's seq, or, for a room the cursor lacks, after its current
 * last seq ("from now"). Runs before a transport commits to a stream, so that
 * a refusal can still be an HTTP status.
 */
export async function planStream(
  store: RoomStore,
  userId: string,
  rooms: string[] | undefined,
  cursor: ReadonlyMap<string, number>,
): Promise<StreamPlan> {
  const positions = new Map<string, number>();
  const carried = new Map<string, number>();
  if (rooms === undefined) {
    // Every room the user may read is in the stream: the cursor's other rooms are not the user's, and are dropped.
    for (const room of await store.listRooms(userId)) positions.set(room.id, cursor.get(room.id) ?? room.lastSeq);
  } else {
    // One read for every room named and every other room of the cursor, however many: a stream or a subscribe
    // frame names up to 1,024, and so may a cursor.
    const named = new Set(rooms);
    const others = [...cursor.keys()].filter((room) => !named.has(room));
    const access = await store.accessMany([...rooms, ...others], userId);
    for (const room of rooms) {
      const result = access.get(room)!;
      requireMembership(result.membership, room);
      positions.set(room, cursor.get(room) ?? result.lastSeq);
    }
    // A cursor is the client's word: positions of rooms the user cannot read are not carried back to it.
    for (const room of others) if (access.get(room)?.membership === 'member') carried.set(room, cursor.get(room)!);
  }
  return { positions, carried, allRooms: rooms === undefined };
}
