/**
 * Every way the server ends a stream, and what the client does next: one table that the gateway's three transports
 * write from and the SDK reads back (docs/protocol.md §8). A WebSocket says it with a close code and reason; SSE
 * with an `error` event just before the stream ends; a long poll with its answer's status and error body. Browsers
 * import it alone, as `@chat/protocol/disconnect`, without the TypeBox schemas of the package's index.
 */
import type { ErrorFrame } from './types';

/**
 * What the client does after a disconnect:
 * - `backoff`: reconnect after a jittered backoff (any replica), resuming from its cursor;
 * - `reauthenticate`: get a new token first, then reconnect at once, resuming from its cursor;
 * - `never`: do not reconnect; the stream is not the caller's to read.
 */
export type Reconnect = 'backoff' | 'reauthenticate' | 'never';

export interface Disconnect {
  /** WebSocket close code; each entry has its own, so a WebSocket client always knows the entry. */
  readonly closeCode: number;
  /** WebSocket close reason (at most 123 bytes), and the message of SSE's error event and a long poll's error body. */
  readonly reason: string;
  /** The code of SSE's closing error event, and of a long poll's error body. */
  readonly errorCode: ErrorFrame['code'];
  /** A long poll's answer: an error status, or 200, an early answer with what it holds (the next poll resumes). */
  readonly pollStatus: 200 | 401 | 403 | 429 | 503;
  readonly reconnect: Reconnect;
}

/**
 * The catalog. A disconnect may carry a reason of its own (`{ ...DISCONNECT.unavailable, reason }`) to say more
 * precisely why; everything else about it comes from here. Entries that share an SSE error code or a poll status
 * advise the same reconnect, so a client of those transports needs no more than the code to act.
 */
export const DISCONNECT = {
  /** The stream cannot be served now (it could not start, history is unreachable); also a stream refused while draining. */
  unavailable: { closeCode: 1011, reason: 'history is unavailable; resume with your cursor', errorCode: 'unavailable', pollStatus: 503, reconnect: 'backoff' },
  /** The gateway is draining: each stream goes at a random moment of the window, and reconnects to another replica. */
  restart: { closeCode: 1012, reason: 'server restarting: reconnect', errorCode: 'unavailable', pollStatus: 200, reconnect: 'backoff' },
  /** The gateway is closing: whatever is still open after its drain. */
  shutdown: { closeCode: 1001, reason: 'server shutting down: reconnect', errorCode: 'unavailable', pollStatus: 200, reconnect: 'backoff' },
  /** The token behind the stream expired; also a stream refused for its token. */
  expired: { closeCode: 4001, reason: 'token expired', errorCode: 'unauthenticated', pollStatus: 401, reconnect: 'reauthenticate' },
  /** The caller may not read a room of the stream: refused at the start today, never ended midway. */
  forbidden: { closeCode: 4003, reason: 'not a member of every room of the stream', errorCode: 'forbidden', pollStatus: 403, reconnect: 'never' },
  /** The client read too slowly and its outbound buffer passed the bound; a poll's answer holds at most a page anyway. */
  tooSlow: { closeCode: 4008, reason: 'too slow: resume with your cursor', errorCode: 'too_slow', pollStatus: 200, reconnect: 'backoff' },
  /** Over a cap: open streams per user or address, or refused sends in a row. */
  rateLimited: { closeCode: 4029, reason: 'rate limited: slow down', errorCode: 'rate_limited', pollStatus: 429, reconnect: 'backoff' },
  /**
   * A room's live events went past a gap that history did not fill within a few reads: the stream ends before the
   * gap rather than deliver past a row that may yet be stored, and the client resumes from its cursor, which reads the
   * room from Postgres afresh. SSE and long poll say it as `unavailable` says it, which clients of every release
   * already read as "resume with your cursor after a backoff".
   */
  resync: { closeCode: 4009, reason: 'history has a gap here: resume with your cursor', errorCode: 'unavailable', pollStatus: 503, reconnect: 'backoff' },
} as const satisfies Record<string, Disconnect>;

const catalog: readonly Disconnect[] = Object.values(DISCONNECT);

/** The first entry, in catalog order, with this key: where entries share a key they share their advice. */
function index<K extends string | number>(key: (disconnect: Disconnect) => K | undefined): ReadonlyMap<K, Disconnect> {
  const byKey = new Map<K, Disconnect>();
  for (const disconnect of catalog) {
    const value = key(disconnect);
    if (value !== undefined && !byKey.has(value)) byKey.set(value, disconnect);
  }
  return byKey;
}

const byCloseCode = index<number>((disconnect) => disconnect.closeCode);
const byErrorCode = index<string>((disconnect) => disconnect.errorCode);
const byStatus = index<number>((disconnect) => (disconnect.pollStatus === 200 ? undefined : disconnect.pollStatus));

/** A WebSocket close; undefined for codes outside the catalog (1000, 1006: a dropped connection, 1009 from ws itself). */
export function disconnectForCloseCode(code: number): Disconnect | undefined {
  return byCloseCode.get(code);
}

/** The error event that ended an SSE stream. */
export function disconnectForErrorCode(code: string): Disconnect | undefined {
  return byErrorCode.get(code);
}

/** An HTTP status of a stream endpoint: a long poll's answer, or any stream (or its ticket) refused before it began. */
export function disconnectForStatus(status: number): Disconnect | undefined {
  return byStatus.get(status);
}
