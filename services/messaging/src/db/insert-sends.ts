import type { LogEntryRow, Pool } from '@chat/db';
import type { SendCommand } from '@chat/kafka';

export interface SendsOutcome {
  /** Entries already stored for sends of the batch (client retries, replays after a crash). */
  stored: LogEntryRow[];
  inserted: LogEntryRow[];
}

/**
 * A batch of plain sends in one statement, so one round trip and its own transaction: the function
 * `insert_sends` (migration 0004, which says what it does and why it is a function) stores the new
 * ones with the seqs that follow and returns them with those already stored. Sends must be unique by
 * (room, sender, clientMsgId) within the batch: see dedupeCommands.
 */
export async function insertSends(pool: Pool, sends: readonly SendCommand[]): Promise<SendsOutcome> {
  const { rows } = await pool.query<LogEntryRow & { is_new: boolean }>(
    'SELECT * FROM insert_sends($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])',
    [
      sends.map((c) => c.room),
      sends.map((c) => c.sender.id),
      sends.map((c) => c.sender.name),
      sends.map((c) => c.clientMsgId),
      sends.map((c) => c.text),
      sends.map((c) => c.acceptedAt),
    ],
  );
  const outcome: SendsOutcome = { stored: [], inserted: [] };
  for (const { is_new: isNew, ...row } of rows) (isNew ? outcome.inserted : outcome.stored).push(row);
  return outcome;
}
