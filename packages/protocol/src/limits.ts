/** Limits the contract fixes; servers and clients check the same numbers. */
export const USERNAME_PATTERN = '^[A-Za-z0-9_.-]{1,32}$';
export const MAX_TEXT_CODE_POINTS = 4000;
export const MAX_CLIENT_MSG_ID_LENGTH = 64;
export const MAX_ROOM_NAME_CODE_POINTS = 64;
export const MAX_HISTORY_LIMIT = 200;
export const DEFAULT_HISTORY_LIMIT = 50;
export const MAX_POLL_TIMEOUT_SECONDS = 30;
export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

const UUID_RE = new RegExp(UUID_PATTERN);
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
