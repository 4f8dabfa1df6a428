import { ClientError } from '@chat/runtime';
import type { Principal } from '../ports/principal';
import type { SignOut, SignOutStore } from '../ports/sign-out-store';

/**
 * A sign-out recorded in Postgres by one gateway can commit after one with a later time (each takes its transaction's
 * clock): every poll reads back this far past the newest it has seen, and a sign-out seen twice changes nothing.
 */
const POLL_OVERLAP_MS = 30_000;

/**
 * The recent sign-outs, in this gateway's memory: a token issued before its user's sign-out is void here, checked
 * without a query. They arrive from the feed at once (every gateway reads the record the signing-out gateway
 * publishes) and from Postgres every poll (a record lost on the way costs its wait, no more). Kept for
 * `windowSeconds`, the longest a token may live (tokens.ts refuses longer ones): an older sign-out voids nothing
 * that is still valid.
 */
export class SignOuts {
  private readonly latest = new Map<string, number>();
  /** Where the next poll reads from, on the database's clock; none before the first (it reads the whole window). */
  private since: number | undefined;

  constructor(
    private readonly store: SignOutStore,
    /** Ends the user's streams whose token was issued before `at`. */
    private readonly onSignOut: (userId: string, at: number) => void,
    private readonly windowSeconds: number,
  ) {}

  /** Refuses (401) a principal whose token its user has signed out since. */
  check(principal: Principal): void {
    const at = this.latest.get(principal.user.id);
    if (at !== undefined && principal.issuedAt < at) throw new ClientError('unauthenticated', 'signed out: sign in again');
  }

  /** A sign-out, from this gateway, the feed or Postgres; one not newer than what is known changes nothing. */
  record({ userId, at }: SignOut): void {
    if (at <= (this.latest.get(userId) ?? -Infinity)) return;
    this.latest.set(userId, at);
    this.onSignOut(userId, at);
  }

  /** Reads the sign-outs since the last poll (the whole window at the first), and forgets those past the window. */
  async poll(): Promise<void> {
    const { signOuts, databaseNow } = await this.store.signOutsSince(this.since, this.windowSeconds);
    for (const signOut of signOuts) this.record(signOut);
    this.since = databaseNow - POLL_OVERLAP_MS;
    const forgetBefore = databaseNow - this.windowSeconds * 1000;
    for (const [userId, at] of this.latest) if (at < forgetBefore) this.latest.delete(userId);
  }

  get size(): number {
    return this.latest.size;
  }
}
