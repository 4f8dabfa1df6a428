import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from '@chat/db';
import type { SendCommand } from '@chat/kafka';
import { checkMessageText, isUuid, MAX_CLIENT_MSG_ID_LENGTH, type MessageEvent } from '@chat/protocol';
import { assignRoomSeqs, countPerRoom, dedupeCommands, sendKey } from './dedupe';

export interface PersistResult {
  /** Every message the batch names, new or already stored, in seq order per room. */
  events: MessageEvent[];
  inserted: number;
  /** Commands for rooms that do not exist: dropped, never stored. */
  dropped: number;
}

/** Where persisted messages go: the port the consumer writes through. */
export interface MessageWriter {
  persistBatch(commands: readonly SendCommand[]): Promise<PersistResult>;
}

interface StoredRow {
  room_id: string;
  seq: number;
  id: string;
  sender_id: string;
  sender_name: string;
  client_msg_id: string;
  text: string;
  sent_at: Date;
}

function toEvent(row: StoredRow): MessageEvent {
  return {
    type: 'message',
    room: row.room_id,
    seq: row.seq,
    id: row.id,
    clientMsgId: row.client_msg_id,
    sender: { id: row.sender_id, name: row.sender_name },
    text: row.text,
    sentAt: row.sent_at.toISOString(),
  };
}

function byRoomThenSeq(a: MessageEvent, b: MessageEvent): number {
  if (a.room !== b.room) return a.room < b.room ? -1 : 1;
  return a.seq - b.seq;
}

/** Gateways validate sends; this guards the table against any other producer of commands. */
function isStorable(command: SendCommand): boolean {
  return (
    isUuid(command.room) &&
    isUuid(command.sender.id) &&
    command.clientMsgId.length >= 1 &&
    command.clientMsgId.length <= MAX_CLIENT_MSG_ID_LENGTH &&
    checkMessageText(command.text) === null
  );
}

// Deadlock (two writers during a rebalance) or a concurrent insert of the same
// send: the retry sees the other writer's rows and treats them as duplicates.
const RETRYABLE = new Set(['40P01', '40001', '23505']);

export class PgMessageWriter implements MessageWriter {
  constructor(private readonly pool: Pool, private readonly maxAttempts = 5) {}

  async persistBatch(commands: readonly SendCommand[]): Promise<PersistResult> {
    const storable = commands.filter(isStorable);
    const invalid = commands.length - storable.length;
    const valid = dedupeCommands(storable);
    if (valid.length === 0) return { events: [], inserted: 0, dropped: invalid };
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        const result = await this.persistInTransaction(client, valid);
        await client.query('COMMIT');
        return { ...result, dropped: result.dropped + invalid };
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        const code = (error as { code?: string }).code;
        if (attempt >= this.maxAttempts || !code || !RETRYABLE.has(code)) throw error;
      } finally {
        client.release();
      }
    }
  }

  private async persistInTransaction(client: PoolClient, commands: SendCommand[]): Promise<PersistResult> {
    const existing = await client.query<StoredRow>(
      `SELECT m.room_id, m.seq, m.id, m.sender_id, m.sender_name, m.client_msg_id, m.text, m.sent_at
         FROM messages m
         JOIN unnest($1::uuid[], $2::uuid[], $3::text[]) AS k(room_id, sender_id, client_msg_id)
           USING (room_id, sender_id, client_msg_id)`,
      [commands.map((c) => c.room), commands.map((c) => c.sender.id), commands.map((c) => c.clientMsgId)],
    );
    const stored = new Set(existing.rows.map((row) => sendKey(row.room_id, row.sender_id, row.client_msg_id)));
    const fresh = commands.filter((c) => !stored.has(sendKey(c.room, c.sender.id, c.clientMsgId)));

    let inserted: StoredRow[] = [];
    let dropped = 0;
    if (fresh.length > 0) {
      const counts = countPerRoom(fresh);
      const roomIds = [...counts.keys()];
      // Lock the counters in id order, so two writers (mid-rebalance) cannot deadlock on them.
      await client.query('SELECT id FROM rooms WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE', [roomIds]);
      const advanced = await client.query<{ id: string; last_seq: number }>(
        `UPDATE rooms r SET last_seq = r.last_seq + c.n
           FROM unnest($1::uuid[], $2::int[]) AS c(id, n)
          WHERE r.id = c.id
         RETURNING r.id, r.last_seq`,
        [roomIds, [...counts.values()]],
      );
      const lastSeqBefore = new Map(advanced.rows.map((row) => [row.id, row.last_seq - (counts.get(row.id) ?? 0)]));
      const inExistingRooms = fresh.filter((c) => lastSeqBefore.has(c.room));
      dropped = fresh.length - inExistingRooms.length;
      const rows = assignRoomSeqs(inExistingRooms, lastSeqBefore).map(
        (c): StoredRow => ({
          room_id: c.room,
          seq: c.seq,
          id: randomUUID(),
          sender_id: c.sender.id,
          sender_name: c.sender.name,
          client_msg_id: c.clientMsgId,
          text: c.text,
          sent_at: new Date(c.acceptedAt),
        }),
      );
      if (rows.length > 0) {
        await client.query(
          `INSERT INTO messages (room_id, seq, id, sender_id, sender_name, client_msg_id, text, sent_at)
           SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::timestamptz[])`,
          [
            rows.map((r) => r.room_id),
            rows.map((r) => r.seq),
            rows.map((r) => r.id),
            rows.map((r) => r.sender_id),
            rows.map((r) => r.sender_name),
            rows.map((r) => r.client_msg_id),
            rows.map((r) => r.text),
            rows.map((r) => r.sent_at),
          ],
        );
      }
      inserted = rows;
    }
    const events = [...existing.rows, ...inserted].map(toEvent).sort(byRoomThenSeq);
    return { events, inserted: inserted.length, dropped };
  }
}
