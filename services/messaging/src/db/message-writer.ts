import { randomUUID } from 'node:crypto';
import { inTransaction, LOG_ENTRY_COLUMNS, toLogEntry, type LogEntryRow, type Pool, type PoolClient } from '@chat/db';
import type { SendCommand } from '@chat/kafka';
import { failpoint } from '@chat/runtime';
import { checkDisplayName, checkMessageText, isClientMsgId, isUuid, serverDeleteKey, type SentEntry } from '@chat/protocol';
import { CoalescedSends } from './coalesced-sends';
import { insertSends } from './insert-sends';
import { isDataError } from './sql-errors';
import { applicableCommands, assignRoomSeqs, countPerRoom, dedupeCommands, sendKey, targetKey, type TargetState } from './dedupe';

/** A command the writer cannot store, whatever it tries: it goes to the dead-letter topic instead of stalling its partition. */
export interface RejectedCommand {
  command: SendCommand;
  /** `invalid`: fields no gateway would send; `data_error`: Postgres refused it (SQLSTATE in `detail`). */
  reason: 'invalid' | 'data_error';
  detail: string;
}

export interface PersistResult {
  /** Every log entry the batch names, new or already stored, in seq order per room. */
  events: SentEntry[];
  inserted: number;
  /** Commands dropped: unknown rooms, edits of messages that are not the sender's, deletes of deleted ones. */
  dropped: number;
  /** Commands that cannot be stored, in the batch's order. */
  rejected: RejectedCommand[];
}

/** Where persisted entries go: the port the consumer writes through. */
export interface MessageWriter {
  persistBatch(commands: readonly SendCommand[]): Promise<PersistResult>;
}

/** Rows stored for commands: never a membership entry (their keys hold no "joined"/"left"). */
const toSentEntry = (row: LogEntryRow) => toLogEntry(row) as SentEntry;

function byRoomThenSeq(a: SentEntry, b: SentEntry): number {
  if (a.room !== b.room) return a.room < b.room ? -1 : 1;
  return a.seq - b.seq;
}

/**
 * Gateways validate commands; this checks them again where they are stored, against any other producer of them (or a
 * gateway of an older release): why one is unstorable, or null.
 */
export function unstorableBecause(command: SendCommand): string | null {
  const kind = command.kind ?? 'message';
  if (!isUuid(command.room) || !isUuid(command.sender.id)) return 'room or sender is not a UUID';
  const serverDelete = kind === 'message_deleted' && command.target !== undefined && command.clientMsgId === serverDeleteKey(command.target);
  if (!serverDelete && !isClientMsgId(command.clientMsgId)) return 'clientMsgId is not 1-64 printable ASCII characters';
  if (checkDisplayName(command.sender.name) !== null) return 'sender name is not a clean display name';
  if (kind === 'message_deleted') return command.text === '' ? null : 'a delete carries no text';
  return checkMessageText(command.text);
}

const describeError = (error: unknown) => `${(error as { code?: string }).code ?? 'no code'}: ${(error as Error).message}`;

// Deadlock (two writers during a rebalance) or a concurrent insert of the same
// command: the retry sees the other writer's rows and treats them as duplicates.
const RETRYABLE = new Set(['40P01', '40001', '23505']);

export class PgMessageWriter implements MessageWriter {
  private readonly sends: CoalescedSends;

  /**
   * `unstorable`: the check before Postgres; tests pass a laxer one to reach the table's own checks, as a writer of
   * an older release (or with a check missing) would.
   */
  constructor(
    private readonly pool: Pool,
    private readonly maxAttempts = 5,
    private readonly unstorable: (command: SendCommand) => string | null = unstorableBecause,
  ) {
    this.sends = new CoalescedSends((sends) => insertSends(pool, sends));
  }

  async persistBatch(commands: readonly SendCommand[]): Promise<PersistResult> {
    const rejected: RejectedCommand[] = [];
    const storable = commands.filter((command) => {
      const why = this.unstorable(command);
      if (why !== null) rejected.push({ command, reason: 'invalid', detail: why });
      return why === null;
    });
    const result = await this.isolatingDataErrors(dedupeCommands(storable));
    return { ...result, rejected: [...rejected, ...result.rejected] };
  }

  /**
   * Stores the commands; when Postgres refuses them for their data, halves them, in order, until each refused
   * command is alone, and stores all the others. Each room's commands keep their order: the first half is stored
   * before the second. A command that passed unstorableBecause and still fails is rare (a check missing there), so
   * the extra statements cost nothing in practice; what matters is that one command never stops its partition.
   */
  private async isolatingDataErrors(commands: SendCommand[]): Promise<PersistResult> {
    if (commands.length === 0) return { events: [], inserted: 0, dropped: 0, rejected: [] };
    try {
      return { ...(await this.persistValid(commands)), rejected: [] };
    } catch (error) {
      if (!isDataError(error)) throw error;
      if (commands.length === 1) {
        return { events: [], inserted: 0, dropped: 0, rejected: [{ command: commands[0]!, reason: 'data_error', detail: describeError(error) }] };
      }
      const middle = Math.ceil(commands.length / 2);
      const first = await this.isolatingDataErrors(commands.slice(0, middle));
      const second = await this.isolatingDataErrors(commands.slice(middle));
      return {
        events: [...first.events, ...second.events].sort(byRoomThenSeq),
        inserted: first.inserted + second.inserted,
        dropped: first.dropped + second.dropped,
        rejected: [...first.rejected, ...second.rejected],
      };
    }
  }

  private persistValid(valid: SendCommand[]): Promise<Omit<PersistResult, 'rejected'>> {
    // Edits and deletes are checked against their targets, in a transaction of several statements;
    // a batch of sends alone (nearly every batch) takes one statement.
    return valid.every((c) => (c.kind ?? 'message') === 'message')
      ? this.retried(() => this.persistSends(valid))
      : this.retried(() => inTransaction(this.pool, (client) => this.persistInTransaction(client, valid)));
  }

  private async retried<T>(attempt: () => Promise<T>): Promise<T> {
    for (let attempts = 1; ; attempts++) {
      try {
        return await attempt();
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (attempts >= this.maxAttempts || !code || !RETRYABLE.has(code)) throw error;
      }
    }
  }

  private async persistSends(sends: SendCommand[]): Promise<Omit<PersistResult, 'rejected'>> {
    const { stored, inserted } = await this.sends.insert(sends);
    const events = [...stored, ...inserted].map(toSentEntry).sort(byRoomThenSeq);
    // What is neither stored nor inserted names a room that does not exist.
    return { events, inserted: inserted.length, dropped: sends.length - stored.length - inserted.length };
  }

  /**
   * One transaction per batch: find what is already stored, check edits and
   * deletes against their targets, lock and advance each room's counter, insert
   * the new entries with dense seqs, and apply edits and deletes to their targets.
   */
  private async persistInTransaction(client: PoolClient, commands: SendCommand[]): Promise<Omit<PersistResult, 'rejected'>> {
    const existing = await client.query<LogEntryRow>(
      `SELECT ${LOG_ENTRY_COLUMNS.split(', ').map((c) => `m.${c}`).join(', ')}
         FROM messages m
         JOIN unnest($1::uuid[], $2::uuid[], $3::text[]) AS k(room_id, sender_id, client_msg_id)
           USING (room_id, sender_id, client_msg_id)`,
      [commands.map((c) => c.room), commands.map((c) => c.sender.id), commands.map((c) => c.clientMsgId)],
    );
    const stored = new Set(existing.rows.map((row) => sendKey(row.room_id, row.sender_id, row.client_msg_id)));
    const unseen = commands.filter((c) => !stored.has(sendKey(c.room, c.sender.id, c.clientMsgId)));
    const fresh = applicableCommands(unseen, await this.loadTargets(client, unseen));

    let inserted: LogEntryRow[] = [];
    let dropped = unseen.length - fresh.length;
    if (fresh.length > 0) {
      const counts = countPerRoom(fresh);
      const roomIds = [...counts.keys()];
      // Two writers touch the same rooms only mid-rebalance; a deadlock between them is retried.
      const advanced = await client.query<{ id: string; last_seq: number }>(
        `UPDATE rooms r SET last_seq = r.last_seq + c.n
           FROM unnest($1::uuid[], $2::int[]) AS c(id, n)
          WHERE r.id = c.id
         RETURNING r.id, r.last_seq`,
        [roomIds, [...counts.values()]],
      );
      failpoint('messaging.room-locked');
      const lastSeqBefore = new Map(advanced.rows.map((row) => [row.id, row.last_seq - (counts.get(row.id) ?? 0)]));
      const inExistingRooms = fresh.filter((c) => lastSeqBefore.has(c.room));
      dropped += fresh.length - inExistingRooms.length;
      inserted = assignRoomSeqs(inExistingRooms, lastSeqBefore).map(
        (c): LogEntryRow => ({
          room_id: c.room,
          seq: c.seq,
          id: randomUUID(),
          kind: c.kind ?? 'message',
          target_seq: c.target ?? null,
          sender_id: c.sender.id,
          sender_name: c.sender.name,
          client_msg_id: c.clientMsgId,
          text: c.text,
          sent_at: new Date(c.acceptedAt),
          edited_at: null,
          deleted_at: null,
        }),
      );
      if (inserted.length > 0) await this.insert(client, inserted);
      await this.applyToTargets(client, inserted);
    }
    const events = [...existing.rows, ...inserted].map(toSentEntry).sort(byRoomThenSeq);
    return { events, inserted: inserted.length, dropped };
  }

  /** The messages that the batch's edits and deletes name. */
  private async loadTargets(client: PoolClient, commands: SendCommand[]): Promise<Map<string, TargetState>> {
    const edits = commands.filter((c) => (c.kind ?? 'message') !== 'message');
    const targets = new Map<string, TargetState>();
    if (edits.length === 0) return targets;
    const { rows } = await client.query<{ room_id: string; seq: number; sender_id: string; deleted: boolean }>(
      `SELECT m.room_id, m.seq, m.sender_id, m.deleted_at IS NOT NULL AS deleted
         FROM messages m JOIN unnest($1::uuid[], $2::bigint[]) AS t(room_id, seq) USING (room_id, seq)
        WHERE m.kind = 'message'`,
      [edits.map((c) => c.room), edits.map((c) => c.target)],
    );
    for (const row of rows) targets.set(targetKey(row.room_id, row.seq), { senderId: row.sender_id, deleted: row.deleted });
    return targets;
  }

  private async insert(client: PoolClient, rows: LogEntryRow[]): Promise<void> {
    await client.query(
      `INSERT INTO messages (room_id, seq, id, kind, target_seq, sender_id, sender_name, client_msg_id, text, sent_at)
       SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::uuid[], $4::text[], $5::bigint[], $6::uuid[], $7::text[], $8::text[], $9::text[], $10::timestamptz[])`,
      [
        rows.map((r) => r.room_id),
        rows.map((r) => r.seq),
        rows.map((r) => r.id),
        rows.map((r) => r.kind),
        rows.map((r) => r.target_seq),
        rows.map((r) => r.sender_id),
        rows.map((r) => r.sender_name),
        rows.map((r) => r.client_msg_id),
        rows.map((r) => r.text),
        rows.map((r) => r.sent_at),
      ],
    );
  }

  /** The target row carries the outcome: the last edit's text, or the deletion. */
  private async applyToTargets(client: PoolClient, rows: LogEntryRow[]): Promise<void> {
    const lastEdit = new Map<string, LogEntryRow>();
    for (const row of rows) if (row.kind === 'message_edited') lastEdit.set(targetKey(row.room_id, row.target_seq!), row);
    const deletes = rows.filter((row) => row.kind === 'message_deleted');
    if (lastEdit.size > 0) {
      const edits = [...lastEdit.values()];
      await client.query(
        `UPDATE messages m SET text = e.text, edited_at = e.at
           FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::timestamptz[]) AS e(room_id, seq, text, at)
          WHERE m.room_id = e.room_id AND m.seq = e.seq`,
        [edits.map((r) => r.room_id), edits.map((r) => r.target_seq), edits.map((r) => r.text), edits.map((r) => r.sent_at)],
      );
    }
    if (deletes.length > 0) {
      await client.query(
        `UPDATE messages m SET text = '', deleted_at = d.at
           FROM unnest($1::uuid[], $2::bigint[], $3::timestamptz[]) AS d(room_id, seq, at)
          WHERE m.room_id = d.room_id AND m.seq = d.seq`,
        [deletes.map((r) => r.room_id), deletes.map((r) => r.target_seq), deletes.map((r) => r.sent_at)],
      );
    }
  }
}
