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
