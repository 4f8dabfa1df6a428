import { randomUUID } from 'node:crypto';
import { ClientError } from '@chat/runtime';
import { inTransaction, LOG_ENTRY_COLUMNS, toLogEntry, type LogEntryRow, type Pool } from '@chat/db';
import {
  isUuid,
  type MemberJoinedEvent,
  type MemberLeftEvent,
  type MembershipEvent,
  type Room,
  type RoomLogEntry,
  type RoomSummary,
  type UserRef,
} from '@chat/protocol';
import type { RoomAccess } from '../ports/access';
import type { RoomStore } from '../ports/room-store';

/**
 * Adds or removes a member and appends the entry that says so, in one call: the function `change_membership`
 * (migration 0006, which says how it shares the room's counter with the messaging writer). Null when nothing changed.
 */
async function changeMembership<K extends MembershipEvent['type']>(
  db: Pick<Pool, 'query'>,
  roomId: string,
  user: UserRef,
  kind: K,
): Promise<Extract<MembershipEvent, { type: K }> | null> {
  const { rows } = await db.query<LogEntryRow>('SELECT * FROM change_membership($1, $2, $3, $4)', [roomId, user.id, user.name, kind]);
  return rows[0] ? (toLogEntry(rows[0]) as Extract<MembershipEvent, { type: K }>) : null;
}

/** The gateway's RoomStore on Postgres. */
export class PgRoomStore implements RoomStore {
  constructor(private readonly pool: Pool) {}

  async upsertUser(login: string): Promise<UserRef> {
    const { rows } = await this.pool.query<{ id: string; name: string }>(
      `INSERT INTO users (id, name, login) VALUES ($1, $2, $2)
       ON CONFLICT (login) DO UPDATE SET login = EXCLUDED.login
       RETURNING id, name`,
      [randomUUID(), login],
    );
    return rows[0]!;
  }

  async ensureUser(user: UserRef): Promise<void> {
    await this.pool.query('INSERT INTO users (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [user.id, user.name]);
  }

  async createRoom(name: string, creator: UserRef): Promise<{ room: Room; joined: MemberJoinedEvent }> {
    const id = randomUUID();
    // A transaction of several statements, but on a room nobody else knows of yet: no writer waits for its lock.
    const joined = await inTransaction(this.pool, async (client) => {
      await client.query('INSERT INTO rooms (id, name, created_by) VALUES ($1, $2, $3)', [id, name, creator.id]);
      return (await changeMembership(client, id, creator, 'member_joined'))!;
    });
    return { room: { id, name }, joined };
  }

  async joinRoom(roomId: string, user: UserRef): Promise<{ room: Room; kind: 'group' | 'dm'; joined: MemberJoinedEvent | null } | null> {
    if (!isUuid(roomId)) return null;
    const { rows } = await this.pool.query<Room & { kind: 'group' | 'dm'; member: boolean }>(
      `SELECT id, name, kind, EXISTS (SELECT 1 FROM room_members m WHERE m.room_id = r.id AND m.user_id = $2) AS member
         FROM rooms r WHERE id = $1`,
      [roomId, user.id],
    );
    const row = rows[0];
    if (!row) return null;
    // A direct room keeps its two members: joining it adds nobody. A member joining again takes no lock.
    const joined = row.kind === 'group' && !row.member ? await changeMembership(this.pool, roomId, user, 'member_joined') : null;
    return { room: { id: row.id, name: row.name }, kind: row.kind, joined };
  }

  async leaveRoom(roomId: string, user: UserRef): Promise<MemberLeftEvent | null> {
    if (!isUuid(roomId)) return null;
    return changeMembership(this.pool, roomId, user, 'member_left');
  }

  async openDirectRoom(user: UserRef, otherId: string): Promise<{ room: Room; created: boolean; joined: MemberJoinedEvent[] } | null> {
    const { rows: others } = await this.pool.query<{ name: string }>('SELECT name FROM users WHERE id = $1', [otherId]);
    const other = others[0];
    if (!other) return null;
    const people: UserRef[] = [user, { id: otherId, name: other.name }];
    const dmKey = [user.id, otherId].sort().join(':');
    const name = [user.name, other.name].sort().join(', ');
    const id = randomUUID();
    const created = await inTransaction(this.pool, async (client) => {
      // Two people opening the same conversation at once: the second INSERT waits for the first transaction and then
      // does nothing, and the read below (a statement of its own) sees the room it made.
      const inserted = await client.query(
        `INSERT INTO rooms (id, name, created_by, kind, dm_key) VALUES ($1, $2, $3, 'dm', $4) ON CONFLICT (dm_key) DO NOTHING`,
        [id, name, user.id, dmKey],
      );
      if (inserted.rowCount === 0) return null;
      const joined: MemberJoinedEvent[] = [];
      for (const person of people) joined.push((await changeMembership(client, id, person, 'member_joined'))!);
      return joined;
    });
    if (created) return { room: { id, name }, created: true, joined: created };
    const { rows } = await this.pool.query<Room & { members: string[] }>(
      `SELECT id, name, ARRAY(SELECT user_id FROM room_members m WHERE m.room_id = r.id) AS members FROM rooms r WHERE dm_key = $1`,
      [dmKey],
    );
    const room = rows[0];
    if (!room) return null;
    // Either of the two who left the conversation is in it again once it is opened.
    const joined: MemberJoinedEvent[] = [];
    for (const person of people.filter((p) => !room.members.includes(p.id))) {
      const entry = await changeMembership(this.pool, room.id, person, 'member_joined');
      if (entry) joined.push(entry);
    }
    return { room: { id: room.id, name: room.name }, created: false, joined };
  }

  async markRead(roomId: string, userId: string, seq: number): Promise<{ lastReadSeq: number; unread: number }> {
    const { rows } = await this.pool.query<{ last_read_seq: number; last_seq: number }>(
      `UPDATE room_members m SET last_read_seq = GREATEST(m.last_read_seq, LEAST($3, r.last_seq))
         FROM rooms r WHERE r.id = m.room_id AND m.room_id = $1 AND m.user_id = $2
       RETURNING m.last_read_seq, r.last_seq`,
      [roomId, userId, seq],
    );
    const row = rows[0];
    // The membership check passed (from the cache) but the caller has left since: as for any non-member.
    if (!row) throw new ClientError('forbidden', `not a member of room ${roomId}`);
    return { lastReadSeq: row.last_read_seq, unread: row.last_seq - row.last_read_seq };
  }

  async messageTarget(roomId: string, seq: number): Promise<{ senderId: string; deleted: boolean } | null> {
    const { rows } = await this.pool.query<{ sender_id: string; deleted: boolean }>(
      `SELECT sender_id, deleted_at IS NOT NULL AS deleted FROM messages WHERE room_id = $1 AND seq = $2 AND kind = 'message'`,
      [roomId, seq],
    );
    const row = rows[0];
    return row ? { senderId: row.sender_id, deleted: row.deleted } : null;
  }

  async roomIdsOf(userId: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ room_id: string }>('SELECT room_id FROM room_members WHERE user_id = $1', [userId]);
    return rows.map((row) => row.room_id);
  }

  async members(roomId: string): Promise<UserRef[]> {
    const { rows } = await this.pool.query<UserRef>(
      'SELECT u.id, u.name FROM room_members m JOIN users u ON u.id = m.user_id WHERE m.room_id = $1 ORDER BY u.name',
      [roomId],
    );
    return rows;
  }

  async listRooms(userId: string): Promise<RoomSummary[]> {
    const { rows } = await this.pool.query<{ id: string; name: string; kind: 'group' | 'dm'; last_seq: number; last_read_seq: number }>(
      `SELECT r.id, r.name, r.kind, r.last_seq, m.last_read_seq FROM room_members m JOIN rooms r ON r.id = m.room_id
        WHERE m.user_id = $1 ORDER BY r.name, r.id`,
      [userId],
    );
    return rows.map((row) => ({ id: row.id, name: row.name, kind: row.kind, lastSeq: row.last_seq, unread: row.last_seq - row.last_read_seq }));
  }

  async access(roomId: string, userId: string): Promise<RoomAccess> {
    return (await this.accessMany([roomId], userId)).get(roomId)!;
  }

  async accessMany(roomIds: readonly string[], userId: string): Promise<Map<string, RoomAccess>> {
    const ids = roomIds.filter(isUuid);
    const found = new Map<string, RoomAccess>();
    if (ids.length > 0) {
      const { rows } = await this.pool.query<{ id: string; last_seq: number; member: boolean }>(
        `SELECT r.id, r.last_seq, EXISTS (SELECT 1 FROM room_members m WHERE m.room_id = r.id AND m.user_id = $2) AS member
           FROM rooms r WHERE r.id = ANY($1::uuid[])`,
        [ids, userId],
      );
      for (const row of rows) found.set(row.id, { membership: row.member ? 'member' : 'not_member', lastSeq: row.last_seq });
    }
    return new Map(roomIds.map((room) => [room, found.get(room) ?? { membership: 'no_room', lastSeq: 0 }]));
  }

  async lastSeqs(roomIds: readonly string[]): Promise<Map<string, number>> {
    if (roomIds.length === 0) return new Map();
    const { rows } = await this.pool.query<{ id: string; last_seq: number }>('SELECT id, last_seq FROM rooms WHERE id = ANY($1::uuid[])', [roomIds]);
    return new Map(rows.map((row) => [row.id, row.last_seq]));
  }

  async messagesAfter(roomId: string, after: number, limit: number): Promise<RoomLogEntry[]> {
    const { rows } = await this.pool.query<LogEntryRow>(
      `SELECT ${LOG_ENTRY_COLUMNS} FROM messages WHERE room_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [roomId, after, limit],
    );
    return rows.map(toLogEntry);
  }

  async messagesAfterMany(positions: ReadonlyArray<readonly [string, number]>, limitPerRoom: number): Promise<RoomLogEntry[]> {
    if (positions.length === 0) return [];
    const { rows } = await this.pool.query<LogEntryRow>(
      `SELECT m.* FROM unnest($1::uuid[], $2::bigint[]) AS p(room_id, after)
       CROSS JOIN LATERAL (
         SELECT ${LOG_ENTRY_COLUMNS} FROM messages
          WHERE room_id = p.room_id AND seq > p.after ORDER BY seq LIMIT $3) m
       ORDER BY m.room_id, m.seq`,
      [positions.map(([room]) => room), positions.map(([, after]) => after), limitPerRoom],
    );
    return rows.map(toLogEntry);
  }

  async messagesBefore(roomId: string, before: number, limit: number): Promise<RoomLogEntry[]> {
    const { rows } = await this.pool.query<LogEntryRow>(
      `SELECT * FROM (SELECT ${LOG_ENTRY_COLUMNS} FROM messages WHERE room_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3) page
        ORDER BY seq`,
      [roomId, before, limit],
    );
    return rows.map(toLogEntry);
  }

  latestMessages(roomId: string, limit: number): Promise<RoomLogEntry[]> {
    return this.messagesBefore(roomId, Number.MAX_SAFE_INTEGER, limit);
  }
}
