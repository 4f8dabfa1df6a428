import { LOG_ENTRY_COLUMNS, type LogEntryRow, type Pool } from '@chat/db';
import type { SendCommand } from '@chat/kafka';

/**
 * A batch of plain sends in one statement, so one round trip and its own transaction: find the sends
 * already stored, advance each room's counter by its new sends, insert those with the seqs that follow
 * (in batch order), and return the stored entries and the new ones. Every part sees one snapshot; a
 * concurrent writer of the same rooms (mid-rebalance) blocks on the counter row, and a send it stored
 * first makes the insert fail with a unique violation, which the caller retries.
 */
const STORED_COLUMNS = LOG_ENTRY_COLUMNS.split(', ').map((column) => `m.${column}`).join(', ');
const INSERT_SENDS = `
WITH batch AS (
  SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])
    WITH ORDINALITY AS b(room_id, sender_id, sender_name, client_msg_id, text, sent_at, position)
), stored AS (
  SELECT ${STORED_COLUMNS} FROM messages m JOIN batch USING (room_id, sender_id, client_msg_id)
), fresh AS (
  SELECT * FROM batch b
   WHERE NOT EXISTS (SELECT 1 FROM stored s
                      WHERE (s.room_id, s.sender_id, s.client_msg_id) = (b.room_id, b.sender_id, b.client_msg_id))
), advanced AS (
  UPDATE rooms r SET last_seq = r.last_seq + c.n
    FROM (SELECT room_id, count(*) AS n FROM fresh GROUP BY room_id) AS c
   WHERE r.id = c.room_id
  RETURNING r.id AS room_id, r.last_seq - c.n AS seq_before
), inserted AS (
  INSERT INTO messages (room_id, seq, id, kind, sender_id, sender_name, client_msg_id, text, sent_at)
  SELECT f.room_id, a.seq_before + row_number() OVER (PARTITION BY f.room_id ORDER BY f.position),
         gen_random_uuid(), 'message', f.sender_id, f.sender_name, f.client_msg_id, f.text, f.sent_at
    FROM fresh f JOIN advanced a USING (room_id)
  RETURNING ${LOG_ENTRY_COLUMNS}
)
SELECT *, false AS is_new FROM stored
UNION ALL
SELECT *, true AS is_new FROM inserted`;

export interface SendsOutcome {
  /** Entries already stored for sends of the batch (client retries, replays after a crash). */
  stored: LogEntryRow[];
  inserted: LogEntryRow[];
}

/** Sends must be unique by (room, sender, clientMsgId) within the batch: see dedupeCommands. */
export async function insertSends(pool: Pool, sends: readonly SendCommand[]): Promise<SendsOutcome> {
  // Not a named statement: a connection would keep a generic plan made while `messages` was small,
  // a sequential scan that grows with the table. Planned each time, the unique index is used.
  const { rows } = await pool.query<LogEntryRow & { is_new: boolean }>({
    text: INSERT_SENDS,
    values: [
      sends.map((c) => c.room),
      sends.map((c) => c.sender.id),
      sends.map((c) => c.sender.name),
      sends.map((c) => c.clientMsgId),
      sends.map((c) => c.text),
      sends.map((c) => c.acceptedAt),
    ],
  });
  const outcome: SendsOutcome = { stored: [], inserted: [] };
  for (const { is_new: isNew, ...row } of rows) (isNew ? outcome.inserted : outcome.stored).push(row);
  return outcome;
}
