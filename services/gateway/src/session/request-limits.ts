import { ClientError } from '@chat/runtime';
import { TokenBuckets } from './send-rate';

/** What each kind of HTTP request may cost, per user (or per address for the login), on one replica. */
export interface RequestLimitSettings {
  /** Authenticated API calls but sends, edits and deletes (those have `SEND_RATE_PER_SECOND`). */
  userRatePerSecond: number;
  userBurst: number;
  /** Room creations, joins and direct conversations opened: each writes rows and a log entry. */
  createRatePerSecond: number;
  createBurst: number;
  /** `POST /api/login` per client address: it upserts a user. */
  loginRatePerSecond: number;
  loginBurst: number;
  /** WebSocket and SSE streams opened per user: each reads the user's rooms. */
  streamOpenRatePerSecond: number;
  streamOpenBurst: number;
}

/** Routes that create (rows, and an entry of a room's log), or sign out (a write, and a record every gateway reads). */
const CREATES = new Set(['POST /api/rooms', 'POST /api/rooms/:roomId/join', 'POST /api/dms', 'POST /api/logout']);
/** Routes that have a bucket of their own: the send path's (message-sender.ts). */
const SENDS = new Set(['POST /api/rooms/:roomId/messages', 'PATCH /api/rooms/:roomId/messages/:seq', 'DELETE /api/rooms/:roomId/messages/:seq']);

/**
 * The HTTP routes' rate limits: token buckets per user for the API, per user again for what creates, per client
 * address for the login. A request past its bucket is `429 rate_limited` with `Retry-After`, before any work. Per
 * replica, as the send limit: docs/protocol.md says why.
 */
export class RequestLimits {
  private readonly perUser: TokenBuckets;
  private readonly creates: TokenBuckets;
  private readonly logins: TokenBuckets;
  private readonly streamOpens: TokenBuckets;

  constructor(settings: RequestLimitSettings, now?: () => number) {
    this.perUser = new TokenBuckets(settings.userRatePerSecond, settings.userBurst, now);
    this.creates = new TokenBuckets(settings.createRatePerSecond, settings.createBurst, now);
    this.logins = new TokenBuckets(settings.loginRatePerSecond, settings.loginBurst, now);
    this.streamOpens = new TokenBuckets(settings.streamOpenRatePerSecond, settings.streamOpenBurst, now);
  }

  /** An authenticated request of `route` (Fastify's pattern) by `userId`: throws past its buckets. */
  checkUser(userId: string, method: string, route: string | undefined): void {
    const name = `${method} ${route ?? ''}`;
    if (SENDS.has(name)) return;
    refuseIfEmpty(this.perUser.take(userId), 'too many requests');
    if (CREATES.has(name)) refuseIfEmpty(this.creates.take(userId), 'too many rooms created or joined');
  }

  /**
   * A WebSocket frame that costs a read (typing, subscribe): from the user's API bucket, so that the user's
   * connections (up to `MAX_STREAMS_PER_USER`, each with its own frame bucket) and HTTP calls share one budget.
   */
  checkUserFrame(userId: string): void {
    refuseIfEmpty(this.perUser.take(userId), 'too many requests');
  }

  /** A stream opened by `userId`: a WebSocket or SSE from the opens' bucket, a long poll (once per answer) from the API's. */
  checkStreamOpen(userId: string, longPoll: boolean): void {
    refuseIfEmpty((longPoll ? this.perUser : this.streamOpens).take(userId), 'too many streams opened');
  }

  checkLogin(address: string): void {
    refuseIfEmpty(this.logins.take(address), 'too many sign-ins from this address');
  }

  /** Forgets full buckets (users and addresses that went quiet). */
  sweep(): void {
    this.perUser.sweep();
    this.creates.sweep();
    this.logins.sweep();
    this.streamOpens.sweep();
  }
}

function refuseIfEmpty(waitMs: number, what: string): void {
  if (waitMs > 0) throw new ClientError('rate_limited', `${what}; retry in ${waitMs} ms`, waitMs);
}
