/** Limits the contract fixes; servers and clients check the same numbers. */
export const USERNAME_PATTERN = '^[A-Za-z0-9_.-]{1,32}$';
export const MAX_TEXT_CODE_POINTS = 4000;
export const MAX_CLIENT_MSG_ID_LENGTH = 64;
/**
 * A clientMsgId is 1-64 characters of printable ASCII without the space (U+0021-U+007E): what every SDK generates
 * (UUIDs, counters), and nothing that Postgres or a log could read differently (no NUL, no controls, no lone
 * surrogates that UTF-8 would fold into one U+FFFD). Keys the server makes for itself hold a space, so no client
 * id can collide with them.
 */
export const CLIENT_MSG_ID_PATTERN = '^[!-~]{1,64}$';
/** Seqs, and every other integer a client sends, stay in the range JavaScript and JSON carry exactly. */
export const MAX_SAFE_SEQ = Number.MAX_SAFE_INTEGER;
export const MAX_ROOM_NAME_CODE_POINTS = 64;
export const MAX_HISTORY_LIMIT = 200;
export const DEFAULT_HISTORY_LIMIT = 50;
export const MAX_POLL_TIMEOUT_SECONDS = 30;
/** The largest WebSocket frame or HTTP body a server reads; a bigger one is refused (413, or close 1009). */
export const MAX_FRAME_BYTES = 64 * 1024;
export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

const UUID_RE = new RegExp(UUID_PATTERN);
const CLIENT_MSG_ID_RE = new RegExp(CLIENT_MSG_ID_PATTERN);

export function isClientMsgId(value: string): boolean {
  return CLIENT_MSG_ID_RE.test(value);
}

/** The server's own dedupe key for deleting message `seq` over HTTP: idempotent per message, and unlike any client id. */
export function serverDeleteKey(seq: number): string {
  return `delete ${seq}`;
}

export function isUuid(value: string): boolean {
  return UUID_RE.test(value);
}

/**
 * A UUID as the system keys it: in lower case. UUIDs compare without regard to case (RFC 9562) and Postgres
 * answers in lower case, so an id a client gives is lower-cased where it enters, before it becomes a map key, a
 * Kafka key or part of a derived key: otherwise a stream opened with an upper-case room id would be accepted and
 * then never see that room's events.
 */
export function canonicalUuid(value: string): string {
  return value.toLowerCase();
}
