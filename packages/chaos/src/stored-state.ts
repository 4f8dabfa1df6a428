import type { Pool } from '@chat/db';
import type { EntryKind, StoredState } from './history';

interface MessageRow {
  room_id: string;
  seq: number | string;
  kind: EntryKind;
  client_msg_id: string;
  sender_id: string;
  text: string;
  target_seq: number | string | null;
  edited: boolean;
  deleted: boolean;
}

/**
 * The final read of what Postgres holds: every row of the rooms (all rooms when `rooms` is left out), each room's
 * counter and member set. Taken once the run has settled; read in seq order, so the checker sees each log as stored.
 */
export async function readStoredState(pool: Pool, rooms?: readonly string[]): Promise<StoredState> {
  const only = rooms ? [...rooms] : null;
  const [messages, counters, members] = await Promise.all([
    pool.query<MessageRow>(
      `SELECT room_id, seq, kind, client_msg_id, sender_id, text, target_seq,
              edited_at IS NOT NULL AS edited, deleted_at IS NOT NULL AS deleted
         FROM messages WHERE $1::uuid[] IS NULL OR room_id = ANY($1::uuid[])
        ORDER BY room_id, seq`,
      [only],
    ),
    pool.query<{ id: string; last_seq: number | string }>(`SELECT id, last_seq FROM rooms WHERE $1::uuid[] IS NULL OR id = ANY($1::uuid[])`, [only]),
    pool.query<{ room_id: string; user_id: string }>(
      `SELECT room_id, user_id FROM room_members WHERE $1::uuid[] IS NULL OR room_id = ANY($1::uuid[])`,
      [only],
    ),
  ]);
  const membersOf = new Map<string, string[]>();
  for (const { room_id, user_id } of members.rows) {
    const list = membersOf.get(room_id);
    if (list) list.push(user_id);
    else membersOf.set(room_id, [user_id]);
  }
  return {
    rooms: counters.rows.map((row) => ({ room: row.id, lastSeq: Number(row.last_seq), members: membersOf.get(row.id) ?? [] })),
    rows: messages.rows.map((row) => ({
      room: row.room_id,
      seq: Number(row.seq),
      kind: row.kind,
      clientMsgId: row.client_msg_id,
      senderId: row.sender_id,
      text: row.text,
      target: row.target_seq === null ? null : Number(row.target_seq),
      edited: row.edited,
      deleted: row.deleted,
    })),
  };
}
