/**
 * The history of a fault run: an append-only list of timestamped operations, recorded by the clients (sends and their
 * outcomes, every raw frame, connections) and by the harness (faults, process exits, samples, membership changes),
 * and the stored state read from Postgres once the run has settled. The checker (checker.ts) judges the two together.
 * It is held in memory while a run lasts (every frame's raw text included: a soak's history grows with its length) and
 * written at the end, one operation per line of JSON Lines, to be read back as it was written.
 */
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { TransportName } from '@chat/protocol';

/** A room's position per room id: a cursor decoded (the last seq the stream holds for each room). */
export type Positions = Record<string, number>;

export type EntryKind = 'message' | 'message_edited' | 'message_deleted';

/**
 * A send invoked: one attempt. Retries of an indeterminate attempt reuse the clientMsgId with the next `attempt`
 * number; the attempts of one (room, user, clientMsgId) are one logical message, as the server dedupes them.
 */
export interface SendInvoked {
  op: 'send';
  t: number;
  client: string;
  user: string;
  /** The WebSocket connection it went out on; absent for HTTP sends. */
  connection?: string;
  via: 'websocket' | 'http';
  room: string;
  clientMsgId: string;
  /** message (the default), or an edit or delete of the entry at `target`. */
  kind?: EntryKind;
  target?: number;
  text: string;
  /** The sender waits for each send's outcome before invoking the next. */
  sequential: boolean;
  attempt: number;
}

/**
 * - `ack`: durable (WebSocket `ack`, HTTP 202);
 * - `refused`: definitively not accepted (the code says why: forbidden, invalid_input, too_large, rate_limited…);
 * - `indeterminate`: may or may not be stored (a timeout, the connection closed, a 5xx, `unavailable`).
 */
export type SendOutcomeKind = 'ack' | 'refused' | 'indeterminate';

export interface SendOutcome {
  op: 'send-outcome';
  t: number;
  client: string;
  room: string;
  clientMsgId: string;
  attempt: number;
  outcome: SendOutcomeKind;
  code?: string;
  detail?: string;
}

/** Every frame a receiver got, before any dedupe: the fields the checker reads, and the raw JSON for people. */
export interface FrameReceived {
  op: 'frame';
  t: number;
  client: string;
  connection: string;
  transport: TransportName;
  type: string;
  room?: string;
  seq?: number;
  clientMsgId?: string;
  text?: string;
  senderId?: string;
  target?: number;
  deleted?: boolean;
  raw: string;
}

/**
 * How a connection chose its starting point:
 * - `last`: from the last cursor the receiver saw (what every recorder does after a drop);
 * - `older`: deliberately from an older cursor: the entries after it come again, and that is no repeat;
 * - `none`: without a cursor, starting from now: the receiver owes nothing of what came before.
 */
export type ResumeKind = 'last' | 'older' | 'none';

export interface ConnectionOpened {
  op: 'connection-opened';
  t: number;
  client: string;
  user: string;
  connection: string;
  transport: TransportName;
  /** The rooms asked for; null: every room of the user, including rooms joined while it is open. */
  rooms: string[] | null;
  resume: ResumeKind;
  /** The cursor handed to the server, decoded ({} without one). */
  from: Positions;
}

/** The stream's own starting positions as the server states them: the `ready` cursor, or a poll answer's cursor. */
export interface StreamPositions {
  op: 'stream-positions';
  t: number;
  client: string;
  connection: string;
  positions: Positions;
}

export interface ConnectionClosed {
  op: 'connection-closed';
  t: number;
  client: string;
  connection: string;
  reason: string;
}

/** A join or leave, recorded once the server answered it. */
export interface MembershipChanged {
  op: 'membership';
  t: number;
  user: string;
  room: string;
  change: 'join' | 'leave';
}

/** A fault switched on (`inject`) or off (`heal`); the two share an id. */
export interface FaultOp {
  op: 'fault';
  t: number;
  action: 'inject' | 'heal';
  id: string;
  kind: string;
  target: string;
}

export interface ProcessExited {
  op: 'process-exit';
  t: number;
  process: string;
  pid?: number;
  code: number | null;
  signal: string | null;
  /** The suite caused it (a kill it injected, a stop at the end). */
  expected: boolean;
}

export interface ProcessSample {
  op: 'process-sample';
  t: number;
  process: string;
  pid: number;
  rssBytes: number;
  openFiles?: number;
  /**
   * The most this process may hold, when it is made to grow to a set size (a JVM fills the heap it was given before it
   * collects): it is judged against this instead of its growth over its baseline.
   */
  rssLimitBytes?: number;
}

export interface LagSample {
  op: 'lag-sample';
  t: number;
  /** A consumer group (and topic, if it matters): one series per name. */
  consumer: string;
  lag: number;
}

/** The harness stopped this client on purpose: it is not expected to be open at the end. */
export interface ClientStopped {
  op: 'client-stopped';
  t: number;
  client: string;
}

/**
 * Every fault is healed, sends have stopped and the run has waited for the system to settle: the end-state checks
 * (delivered to everyone connected, every client open, lag 0) are judged as of this moment.
 */
export interface Settled {
  op: 'settled';
  t: number;
}

export type HistoryOp =
  | SendInvoked
  | SendOutcome
  | FrameReceived
  | ConnectionOpened
  | StreamPositions
  | ConnectionClosed
  | MembershipChanged
  | FaultOp
  | ProcessExited
  | ProcessSample
  | LagSample
  | ClientStopped
  | Settled;

type Untimed<O> = O extends unknown ? Omit<O, 't'> : never;
/** An operation as a recorder hands it over; the history stamps the time. */
export type UntimedOp = Untimed<HistoryOp>;

/** One row of `messages`, as the checker needs it. */
export interface StoredRow {
  room: string;
  seq: number;
  kind: EntryKind;
  clientMsgId: string;
  senderId: string;
  /** The current text: an edited message holds its last edit's text, a deleted one ''. */
  text: string;
  target: number | null;
  edited: boolean;
  deleted: boolean;
}

export interface StoredRoom {
  room: string;
  /** The room's counter (`rooms.last_seq`): the log should end exactly there. */
  lastSeq: number;
  members: string[];
}

export interface StoredState {
  rooms: StoredRoom[];
  rows: StoredRow[];
}

/** Milliseconds on a monotonic clock that every recorder of a process shares (epoch-based, so files from one host line up). */
export function monotonicNow(): number {
  return performance.timeOrigin + performance.now();
}

/** The codes a send is refused with before anything was appended: it will never be stored. */
const DEFINITIVE_REFUSALS = new Set(['invalid_input', 'invalid_cursor', 'unauthenticated', 'forbidden', 'not_found', 'too_large', 'rate_limited']);

/** A send's error code, as a WebSocket `error` frame or an HTTP error body carries it. `unavailable`/`internal` may have been appended. */
export function outcomeOfErrorCode(code: string): Exclude<SendOutcomeKind, 'ack'> {
  return DEFINITIVE_REFUSALS.has(code) ? 'refused' : 'indeterminate';
}

/** An HTTP send's answer: 202 is the ack; a 4xx a refusal (408 aside); a 5xx or anything else may have been stored. */
export function outcomeOfHttpStatus(status: number): SendOutcomeKind {
  if (status === 202) return 'ack';
  if (status >= 400 && status < 500 && status !== 408) return 'refused';
  return 'indeterminate';
}

/** The record of a run, in memory, stamped with one clock; written and read back as JSON Lines. */
export class History {
  readonly ops: HistoryOp[] = [];

  /**
   * `keepRawFrames: false` records each frame's fields without its raw text (`raw: ''`): the checker reads only the
   * fields, and an hour's soak holds about a million frames.
   */
  constructor(
    private readonly clock: () => number = monotonicNow,
    private readonly options: { keepRawFrames?: boolean } = {},
  ) {}

  record(op: UntimedOp): void {
    const timed = { ...op, t: this.clock() } as HistoryOp;
    if (timed.op === 'frame' && this.options.keepRawFrames === false) timed.raw = '';
    this.ops.push(timed);
  }

  toJsonLines(): string {
    return toJsonLines(this.ops);
  }

  /** Streams the history to a file, one operation a line, honouring the file's backpressure. */
  writeJsonLines(path: string): Promise<void> {
    const ops = this.ops;
    function* lines() {
      for (const op of ops) yield `${JSON.stringify(op)}\n`;
    }
    return pipeline(Readable.from(lines()), createWriteStream(path));
  }
}

export function toJsonLines(ops: readonly HistoryOp[]): string {
  return ops.map((op) => `${JSON.stringify(op)}\n`).join('');
}

const OP_NAMES = new Set<string>([
  'send',
  'send-outcome',
  'frame',
  'connection-opened',
  'stream-positions',
  'connection-closed',
  'membership',
  'fault',
  'process-exit',
  'process-sample',
  'lag-sample',
  'client-stopped',
  'settled',
]);

/** Reads JSON Lines back; a line that is not an operation is an error naming its line, not a silent skip. */
export function parseJsonLines(text: string): HistoryOp[] {
  const ops: HistoryOp[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new Error(`history line ${i + 1} is not JSON: ${(error as Error).message}`, { cause: error });
    }
    const op = value as { op?: unknown; t?: unknown };
    if (typeof op.op !== 'string' || !OP_NAMES.has(op.op) || typeof op.t !== 'number') {
      throw new Error(`history line ${i + 1} is not an operation: ${line.slice(0, 200)}`);
    }
    ops.push(value as HistoryOp);
  }
  return ops;
}
