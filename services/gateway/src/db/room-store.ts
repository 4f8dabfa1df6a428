import { randomUUID } from 'node:crypto';
import { ClientError } from '@chat/runtime';
import { LOG_ENTRY_COLUMNS, toLogEntry, type LogEntryRow, type Pool } from '@chat/db';
import { isUuid, type Room, type RoomLogEntry, type RoomSummary, type UserRef } from '@chat/protocol';
import type { RoomAccess } from '../ports/access';
import type { RoomStore } from '../ports/room-store';

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

  async createRoom(name: string, creator: UserRef): Promise<Room> {
    const id = randomUUID();
    await this.pool.query(
      `WITH room AS (INSERT INTO rooms (id, name, created_by) VALUES ($1, $2, $3) RETURNING id)
       INSERT INTO room_members (room_id, user_id) SELECT id, $3 FROM room`,
      [id, name, creator.id],
    );
    return { id, name };
  }

  async joinRoom(roomId: string, user: UserRef): Promise<{ room: Room; lastSeq: number; kind: 'group' | 'dm' } | null> {
    if (!isUuid(roomId)) return null;
    // A direct room keeps its two members: joining it adds nobody.
    const { rows } = await this.pool.query<Room & { last_seq: number; kind: 'group' | 'dm' }>(
      `WITH joined AS (
         INSERT INTO room_members (room_id, user_id) SELECT id, $2 FROM rooms WHERE id = $1 AND kind = 'group'
         ON CONFLICT DO NOTHING)
       SELECT id, name, last_seq, kind FROM rooms WHERE id = $1`,
      [roomId, user.id],
    );
    const row = rows[0];
    return row ? { room: { id: row.id, name: row.name }, lastSeq: row.last_seq, kind: row.kind } : null;
  }

  async leaveRoom(roomId: string, userId: string): Promise<boolean> {
    if (!isUuid(roomId)) return false;
    const { rowCount } = await this.pool.query('DELETE FROM room_members WHERE room_id = $1 AND user_id = $2', [roomId, userId]);
    return (rowCount ?? 0) > 0;
  }

  async openDirectRoom(user: UserRef, otherId: string): Promise<{ room: Room; created: boolean } | null> {
    const { rows: others } = await this.pool.query<{ name: string }>('SELECT name FROM users WHERE id = $1', [otherId]);
    const other = others[0];
    if (!other) return null;
    const pair = [user.id, otherId].sort();
    const dmKey = pair.join(':');
    const name = [user.name, other.name].sort().join(', ');
    // Two people opening the same conversation at once: the loser's statement cannot see the
    // winner's row in its snapshot, so it asks once more.
    for (let attempt = 0; attempt < 2; attempt++) {
      const row = await this.insertOrFindDirectRoom(dmKey, name, user.id, pair);
      if (row) return { room: { id: row.id, name: row.name }, created: row.created };
    }
    return null;
  }

  private async insertOrFindDirectRoom(dmKey: string, name: string, creatorId: string, pair: string[]) {
    const { rows } = await this.pool.query<{ id: string; name: string; created: boolean }>(
      `WITH created AS (
         INSERT INTO rooms (id, name, created_by, kind, dm_key) VALUES ($1, $2, $3, 'dm', $4)
         ON CONFLICT (dm_key) DO NOTHING RETURNING id, name),
       room AS (SELECT id, name, true AS created FROM created
                UNION ALL SELECT id, name, false FROM rooms WHERE dm_key = $4 AND NOT EXISTS (SELECT 1 FROM created)),
       members AS (INSERT INTO room_members (room_id, user_id) SELECT room.id, u FROM room, unnest($5::uuid[]) u
                   ON CONFLICT DO NOTHING)
       SELECT id, name, created FROM room`,
      [randomUUID(), name, creatorId, dmKey, pair],
    );
    return rows[0];
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
