import type { LogEntryRow } from '@chat/db';
import type { SendCommand } from '@chat/kafka';
import { dedupeCommands, sendKey } from './dedupe';
import type { SendsOutcome } from './insert-sends';
import { isDataError, isLockTimeout } from './sql-errors';

type Store = (sends: SendCommand[]) => Promise<SendsOutcome>;

interface Waiting {
  sends: readonly SendCommand[];
  resolve: (outcome: SendsOutcome) => void;
  reject: (error: unknown) => void;
}

/**
 * Batches of sends stored together: kafkajs hands every partition's batch of a fetch over at once,
 * and each would otherwise be its own statement, connection and commit. Batches that arrive in the
 * same tick share one statement; those that arrive while it runs share the next. Partitions hold
 * disjoint rooms, so one statement for several changes nothing about seqs; a partition's next
 * batch only comes once its previous one is stored. Idle, a batch is still one statement away.
 * A shared statement's pg span sits in the trace of the batch that started the flush; the other
 * batches' `persist batch` spans still cover their wait for it.
 */
export class CoalescedSends {
  private waiting: Waiting[] = [];
  private flushing = false;

  /**
   * `sendsPerStatement`: small batches are bound by round trips and commits, so they share a
   * statement; past this many sends the rows are the work, and several statements at once let
   * Postgres write them on several cores.
   */
  constructor(
    private readonly store: Store,
    private readonly sendsPerStatement = 250,
  ) {}

  insert(sends: readonly SendCommand[]): Promise<SendsOutcome> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ sends, resolve, reject });
      if (this.flushing) return;
      this.flushing = true;
      setImmediate(() => {
        // A flush that threw outside its per-statement handling (a bug): what still waits fails now instead of never.
        this.flush().catch((error: unknown) => {
          this.flushing = false;
          for (const waiting of this.waiting.splice(0)) waiting.reject(error);
        });
      });
    });
  }

  private async flush(): Promise<void> {
    while (this.waiting.length > 0) {
      const group = this.waiting;
      this.waiting = [];
      await Promise.all(statements(group, this.sendsPerStatement).map((part) => this.storeTogether(part)));
    }
    this.flushing = false;
  }

  private async storeTogether(group: Waiting[]): Promise<void> {
    try {
      const outcome = await this.store(dedupeCommands(group.flatMap((waiting) => waiting.sends)));
      for (const [index, part] of split(group, outcome).entries()) group[index]!.resolve(part);
    } catch (error) {
      // One batch's bad command, or its room locked by another writer, must not fail the batches of other partitions
      // that shared its statement: each is stored on its own, and only the one at fault sees the error. When Postgres
      // itself failed, all see it at once.
      if (group.length > 1 && (isDataError(error) || isLockTimeout(error))) {
        await Promise.all(group.map((waiting) => this.storeTogether([waiting])));
        return;
      }
      for (const waiting of group) waiting.reject(error);
    }
  }
}

/** Whole batches, in order, into statements of at most `limit` sends (or one batch, if it is larger). */
function statements(group: Waiting[], limit: number): Waiting[][] {
  const parts: Waiting[][] = [];
  let size = 0;
  for (const waiting of group) {
    if (parts.length === 0 || size + waiting.sends.length > limit) {
      parts.push([]);
      size = 0;
    }
    parts.at(-1)!.push(waiting);
    size += waiting.sends.length;
  }
  return parts;
}

/**
 * Each batch's share of a shared statement's rows, found by the sends' keys. A send in two batches
 * (only a producer that does not key by room could do that) is stored once and reported to both.
 */
function split(group: readonly Waiting[], outcome: SendsOutcome): SendsOutcome[] {
  if (group.length === 1) return [outcome];
  const owners = new Map<string, SendsOutcome[]>();
  const parts = group.map((waiting): SendsOutcome => {
    const part: SendsOutcome = { stored: [], inserted: [] };
    for (const send of waiting.sends) {
      const key = sendKey(send.room, send.sender.id, send.clientMsgId);
      owners.set(key, [...(owners.get(key) ?? []), part]);
    }
    return part;
  });
  const ownersOf = (row: LogEntryRow) => owners.get(sendKey(row.room_id, row.sender_id, row.client_msg_id)) ?? [];
  for (const row of outcome.stored) for (const part of ownersOf(row)) part.stored.push(row);
  for (const row of outcome.inserted) for (const part of ownersOf(row)) part.inserted.push(row);
  return parts;
}
