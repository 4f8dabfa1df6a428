import { randomUUID } from 'node:crypto';
import type { Pool } from '@chat/db';
import { isUuid, type Message, type Room, type RoomSummary, type UserRef } from '@chat/protocol';

export type Membership = 'member' | 'not_member' | 'no_room';

export interface RoomAccess {
  membership: Membership;
  lastSeq: number;
}

/** Users, rooms, membership and history as the gateway needs them. */
export interface RoomStore {
  /** The development login's user of that login name, created on first use. */
  upsertUser(login: string): Promise<UserRef>;
  /** Records a user known from a verified token, so that rooms can reference it. */
  ensureUser(user: UserRef): Promise<void>;
  createRoom(name: string, creator: UserRef): Promise<Room>;
  /** Idempotent; null for an unknown room. `lastSeq` is the room's seq at the moment of joining. */
  joinRoom(roomId: string, user: UserRef): Promise<{ room: Room; lastSeq: number } | null>;
  listRooms(userId: string): Promise<RoomSummary[]>;
  /** Membership and the room's last seq in one read. */
  access(roomId: string, userId: string): Promise<RoomAccess>;
  messagesAfter(roomId: string, after: number, limit: number): Promise<Message[]>;
  /** Up to `limitPerRoom` messages after each position, in one query, ascending per room. */
  messagesAfterMany(positions: ReadonlyArray<readonly [string, number]>, limitPerRoom: number): Promise<Message[]>;
  messagesBefore(roomId: string, before: number, limit: number): Promise<Message[]>;
  latestMessages(roomId: string, limit: number): Promise<Message[]>;
}

interface MessageRow {
  room_id: string;
  seq: number;
  id: string;
  client_msg_id: string;
  sender_id: string;
  sender_name: string;
  text: string;
  sent_at: Date;
}

const MESSAGE_COLUMNS = 'room_id, seq, id, client_msg_id, sender_id, sender_name, text, sent_at';

function toMessage(row: MessageRow): Message {
  return {
    room: row.room_id,
    seq: row.seq,
    id: row.id,
    clientMsgId: row.client_msg_id,
    sender: { id: row.sender_id, name: row.sender_name },
    text: row.text,
    sentAt: row.sent_at.toISOString(),
  };
}

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

  async joinRoom(roomId: string, user: UserRef): Promise<{ room: Room; lastSeq: number } | null> {
    if (!isUuid(roomId)) return null;
    const { rows } = await this.pool.query<Room & { last_seq: number }>(
      `WITH joined AS (
         INSERT INTO room_members (room_id, user_id) SELECT id, $2 FROM rooms WHERE id = $1
         ON CONFLICT DO NOTHING)
       SELECT id, name, last_seq FROM rooms WHERE id = $1`,
      [roomId, user.id],
    );
    const row = rows[0];
    return row ? { room: { id: row.id, name: row.name }, lastSeq: row.last_seq } : null;
  }

  async listRooms(userId: string): Promise<RoomSummary[]> {
    const { rows } = await this.pool.query<{ id: string; name: string; last_seq: number }>(
      `SELECT r.id, r.name, r.last_seq FROM room_members m JOIN rooms r ON r.id = m.room_id
        WHERE m.user_id = $1 ORDER BY r.name, r.id`,
      [userId],
    );
    return rows.map((row) => ({ id: row.id, name: row.name, lastSeq: row.last_seq }));
  }

  async access(roomId: string, userId: string): Promise<RoomAccess> {
    if (!isUuid(roomId)) return { membership: 'no_room', lastSeq: 0 };
    const { rows } = await this.pool.query<{ last_seq: number; member: boolean }>(
      `SELECT r.last_seq, EXISTS (SELECT 1 FROM room_members m WHERE m.room_id = r.id AND m.user_id = $2) AS member
         FROM rooms r WHERE r.id = $1`,
      [roomId, userId],
    );
    const row = rows[0];
    if (!row) return { membership: 'no_room', lastSeq: 0 };
    return { membership: row.member ? 'member' : 'not_member', lastSeq: row.last_seq };
  }

  async messagesAfter(roomId: string, after: number, limit: number): Promise<Message[]> {
    const { rows } = await this.pool.query<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE room_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [roomId, after, limit],
    );
    return rows.map(toMessage);
  }

  async messagesAfterMany(positions: ReadonlyArray<readonly [string, number]>, limitPerRoom: number): Promise<Message[]> {
    if (positions.length === 0) return [];
    const { rows } = await this.pool.query<MessageRow>(
      `SELECT m.* FROM unnest($1::uuid[], $2::bigint[]) AS p(room_id, after)
       CROSS JOIN LATERAL (
         SELECT ${MESSAGE_COLUMNS} FROM messages
          WHERE room_id = p.room_id AND seq > p.after ORDER BY seq LIMIT $3) m
       ORDER BY m.room_id, m.seq`,
      [positions.map(([room]) => room), positions.map(([, after]) => after), limitPerRoom],
    );
    return rows.map(toMessage);
  }

  async messagesBefore(roomId: string, before: number, limit: number): Promise<Message[]> {
    const { rows } = await this.pool.query<MessageRow>(
      `SELECT * FROM (SELECT ${MESSAGE_COLUMNS} FROM messages WHERE room_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3) page
        ORDER BY seq`,
      [roomId, before, limit],
    );
    return rows.map(toMessage);
  }

  latestMessages(roomId: string, limit: number): Promise<Message[]> {
    return this.messagesBefore(roomId, Number.MAX_SAFE_INTEGER, limit);
  }
}
