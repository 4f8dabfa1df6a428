import type { EntryKind, HistoryOp, StoredRow } from '../history';
import type { AnomalyLog } from './anomalies';
import { sendKey, upperBound, type StoredLog } from './stored-log';

/**
 * The attempts of one (room, user, clientMsgId): one logical message, since the server stores them at most once.
 * - acked: some attempt was acknowledged: it must be stored exactly once, as sent;
 * - refused: every attempt was definitively refused: it must not be stored;
 * - indeterminate: anything else (an attempt timed out, its connection closed, no outcome recorded): either is fine.
 */
export interface LogicalSend {
  key: string;
  room: string;
  user: string;
  /** The client of the first attempt. */
  client: string;
  clientMsgId: string;
  kind: EntryKind;
  target: number | undefined;
  texts: Set<string>;
  sequential: boolean;
  attempts: number;
  firstInvokedAt: number;
  /** When the first ack arrived. */
  ackedAt: number | undefined;
  outcomes: number;
  refusals: number;
  lastRefusal: string | undefined;
  status: 'acked' | 'refused' | 'indeterminate';
  /** The stored row, when there is exactly one. */
  row: StoredRow | undefined;
}

const attemptKey = (client: string, room: string, clientMsgId: string, attempt: number) => `${client}#${room}#${clientMsgId}#${attempt}`;

/** Groups the history's send attempts and outcomes into logical messages (ops in time order). */
export function collectSends(ops: readonly HistoryOp[], stored: StoredLog): Map<string, LogicalSend> {
  const sends = new Map<string, LogicalSend>();
  const byAttempt = new Map<string, LogicalSend>();
  for (const op of ops) {
    if (op.op === 'send') {
      const key = sendKey(op.room, op.user, op.clientMsgId);
      let send = sends.get(key);
      if (!send) {
        send = {
          key,
          room: op.room,
          user: op.user,
          client: op.client,
          clientMsgId: op.clientMsgId,
          kind: op.kind ?? 'message',
          target: op.target,
          texts: new Set(),
          sequential: op.sequential,
          attempts: 0,
          firstInvokedAt: op.t,
          ackedAt: undefined,
          outcomes: 0,
          refusals: 0,
          lastRefusal: undefined,
          status: 'indeterminate',
          row: undefined,
        };
        sends.set(key, send);
      }
      send.attempts++;
      send.texts.add(op.text);
      byAttempt.set(attemptKey(op.client, op.room, op.clientMsgId, op.attempt), send);
    } else if (op.op === 'send-outcome') {
      const send = byAttempt.get(attemptKey(op.client, op.room, op.clientMsgId, op.attempt));
      if (!send) continue;
      send.outcomes++;
      if (op.outcome === 'ack') send.ackedAt ??= op.t;
      if (op.outcome === 'refused') {
        send.refusals++;
        send.lastRefusal = op.code;
      }
    }
  }
  for (const send of sends.values()) {
    if (send.ackedAt !== undefined) send.status = 'acked';
    else if (send.refusals === send.attempts) send.status = 'refused';
    const rows = stored.rowsOf(send.room, send.user, send.clientMsgId);
    if (rows.length === 1) send.row = rows[0];
  }
  return sends;
}

/**
 * What a stored row's text must be: an edited message holds the text of its last stored edit, a deleted one '',
 * anything else the text it was sent with.
 */
function expectedStoredText(row: StoredRow, send: LogicalSend, stored: StoredLog): string[] {
  if (row.kind === 'message' && row.deleted) return [''];
  if (row.kind === 'message' && row.edited) {
    const edits = stored.editsOf(row);
    return edits.length > 0 ? [edits[edits.length - 1]!.text] : [];
  }
  return [...send.texts];
}

/** acked ⇒ stored exactly once, as sent; refused ⇒ not stored; nothing stored twice. */
export function checkSendsStored(sends: ReadonlyMap<string, LogicalSend>, stored: StoredLog, anomalies: AnomalyLog): void {
  for (const [, rows] of stored.rowsByKey()) {
    for (let i = 1; i < rows.length; i++) {
      const row = rows[i]!;
      anomalies.add(
        'stored-twice',
        { room: row.room, user: row.senderId, clientMsgId: row.clientMsgId, seq: row.seq, earlierSeq: rows[0]!.seq },
        `clientMsgId ${row.clientMsgId} of user ${row.senderId} is stored at seq ${rows[0]!.seq} and again at seq ${row.seq} of room ${row.room}`,
      );
    }
  }
  for (const send of sends.values()) {
    const rows = stored.rowsOf(send.room, send.user, send.clientMsgId);
    const ids = { room: send.room, user: send.user, client: send.client, clientMsgId: send.clientMsgId };
    if (send.status === 'refused' && rows.length > 0) {
      anomalies.add(
        'refused-stored',
        { ...ids, seq: rows[0]!.seq },
        `${send.clientMsgId} was refused (${send.lastRefusal ?? 'no code'}) on every one of its ${send.attempts} attempts, yet it is stored at seq ${rows[0]!.seq}`,
      );
    }
    if (send.status !== 'acked') continue;
    if (rows.length === 0) {
      anomalies.add('acked-lost', ids, `${send.clientMsgId} was acknowledged by room ${send.room} but is not stored`);
      continue;
    }
    const row = rows[0]!;
    const problems: string[] = [];
    if (row.kind !== send.kind) problems.push(`it was sent as ${send.kind} and stored as ${row.kind}`);
    if (send.kind !== 'message' && row.target !== (send.target ?? null)) problems.push(`it targets seq ${send.target} but the row targets ${row.target}`);
    const texts = expectedStoredText(row, send, stored);
    if (send.kind !== 'message_deleted' && !texts.includes(row.text)) {
      problems.push(`the row holds ${JSON.stringify(row.text)} where ${texts.map((text) => JSON.stringify(text)).join(' or ') || 'an edit'} was expected`);
    }
    if (problems.length > 0) anomalies.add('text-mismatch', { ...ids, seq: row.seq }, `${send.clientMsgId} at seq ${row.seq}: ${problems.join('; ')}`);
  }
}

/**
 * A message acknowledged before another of the same client was invoked must come first in the room. For a sequential
 * sender (each send waits for its ack) that is send order; for a pipelining one it only orders the sends that did not
 * overlap. Indeterminate attempts order nothing: such a message may be stored later than its successors.
 */
export function checkSenderOrder(sends: ReadonlyMap<string, LogicalSend>, anomalies: AnomalyLog): void {
  const groups = new Map<string, LogicalSend[]>();
  for (const send of sends.values()) {
    if (!send.sequential || send.status !== 'acked' || !send.row) continue;
    const key = `${send.client}#${send.room}`;
    const group = groups.get(key);
    if (group) group.push(send);
    else groups.set(key, [send]);
  }
  for (const group of groups.values()) {
    // An ack and an invocation at the same instant: the ack came first (the client reacted to it).
    const events = group.flatMap((send) => [
      { t: send.ackedAt!, ack: true, send },
      { t: send.firstInvokedAt, ack: false, send },
    ]);
    events.sort((a, b) => a.t - b.t || Number(b.ack) - Number(a.ack));
    let latest: LogicalSend | undefined;
    for (const { ack, send } of events) {
      if (ack) {
        if (!latest || send.row!.seq > latest.row!.seq) latest = send;
      } else if (latest && send.row!.seq <= latest.row!.seq) {
        anomalies.add(
          'sender-reorder',
          { room: send.room, client: send.client, clientMsgId: send.clientMsgId, seq: send.row!.seq, earlierClientMsgId: latest.clientMsgId, earlierSeq: latest.row!.seq },
          `${send.client} sent ${send.clientMsgId} after ${latest.clientMsgId} was acknowledged, yet it is stored at seq ${send.row!.seq}, before seq ${latest.row!.seq}`,
        );
      }
    }
  }
}

/** The acked messages of each room that are stored, by when they were first invoked: what a subscription owes from a moment on. */
export class AckedByRoom {
  private readonly byRoom = new Map<string, { sends: LogicalSend[]; times: number[]; lowestSeqFrom: number[] }>();

  constructor(sends: ReadonlyMap<string, LogicalSend>) {
    const grouped = new Map<string, LogicalSend[]>();
    for (const send of sends.values()) {
      if (send.status !== 'acked' || !send.row) continue;
      const list = grouped.get(send.room);
      if (list) list.push(send);
      else grouped.set(send.room, [send]);
    }
    for (const [room, list] of grouped) {
      list.sort((a, b) => a.firstInvokedAt - b.firstInvokedAt);
      const lowestSeqFrom = new Array<number>(list.length);
      for (let i = list.length - 1; i >= 0; i--) lowestSeqFrom[i] = Math.min(list[i]!.row!.seq, lowestSeqFrom[i + 1] ?? Infinity);
      this.byRoom.set(room, { sends: list, times: list.map((send) => send.firstInvokedAt), lowestSeqFrom });
    }
  }

  /** The acked messages of the room first invoked after `t`, earliest first. */
  invokedAfter(room: string, t: number): LogicalSend[] {
    const entry = this.byRoom.get(room);
    return entry ? entry.sends.slice(upperBound(entry.times, t)) : [];
  }

  /** The lowest seq among them, or undefined when there is none. */
  lowestSeqInvokedAfter(room: string, t: number): number | undefined {
    const entry = this.byRoom.get(room);
    return entry?.lowestSeqFrom[upperBound(entry.times, t)];
  }
}
