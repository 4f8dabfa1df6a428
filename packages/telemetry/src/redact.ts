import { createHash } from 'node:crypto';

// What a URL must not carry into a span or a log line: room ids (in paths and `rooms=`), tickets, tokens and
// cursors (query values). The contract's paths keep their shape (`/api/rooms/:id/messages`) and their query
// keys, so that a trace still says what was asked.
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
/** Query values that say nothing of a user: kept. */
const HARMLESS_QUERY_KEYS = new Set(['limit', 'transport']);

/** A path and query with every UUID segment `:id` and every query value but `limit` and `transport` `REDACTED`. */
export function redactUrl(url: string): string {
  const mark = url.indexOf('?');
  const path = (mark === -1 ? url : url.slice(0, mark)).replace(UUID, ':id');
  return mark === -1 ? path : `${path}?${redactQuery(url.slice(mark + 1))}`;
}

/** A query string (without its `?`) with every value but the harmless ones `REDACTED`; keys stay. */
export function redactQuery(query: string): string {
  return query
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      if (equals === -1) return pair;
      const key = pair.slice(0, equals);
      return HARMLESS_QUERY_KEYS.has(key) ? pair : `${key}=REDACTED`;
    })
    .join('&');
}

/**
 * A room's stand-in in spans: the first 16 hex digits of its id's SHA-256. Not the id (which lets anyone who has it
 * ask to join), yet an operator who has the id can find its traces (`roomRef(id)`), and one room's spans match.
 */
export function roomRef(roomId: string): string {
  return createHash('sha256').update(roomId).digest('hex').slice(0, 16);
}
