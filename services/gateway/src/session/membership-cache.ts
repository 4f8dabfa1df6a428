import { monotonicNow } from '@chat/runtime';
import type { Membership, MemberCheck } from '../ports/access';
import type { RoomStore } from '../ports/room-store';

const MEMBER: Promise<Membership> = Promise.resolve('member');

/**
 * Remembers who is a member of which room, so that a send does not wait for a
 * Postgres round trip: sends on one connection are accepted in order, and at a
 * few hundred a second that query, one after another, was most of a message's
 * latency (docs/benchmarks.md).
 *
 * "Member" is remembered for at most `ttlMs`. A `member_left` event (every
 * gateway reads them all from the feed) or a leave through this gateway
 * forgets it at once, so someone who left can still send for no longer than
 * the feed's lag, or `ttlMs` if that event never comes.
 *
 * "Not a member" and "no such room" are remembered too, for `negativeTtlMs`
 * (a few seconds): a non-member's typing or sends to a room cost one query in
 * that time, not one each. A `member_joined` event or a join through this
 * gateway forgets it, so a new member waits no longer than the feed's lag.
 * Lookups of one key in flight at the same time share one query. Each map
 * holds `maxEntries` at most, the oldest going first.
 */
export class MembershipCache implements MemberCheck {
  /** Key → when the entry expires; oldest first, so the first entries are the ones to evict. */
  private readonly members = new Map<string, number>();
  private readonly refusals = new Map<string, { membership: Promise<Membership>; expiresAt: number }>();
  private readonly lookups = new Map<string, Promise<Membership>>();

  constructor(
    private readonly store: Pick<RoomStore, 'access'>,
    private readonly ttlMs = 30_000,
    private readonly maxEntries = 100_000,
    private readonly now: () => number = monotonicNow,
    private readonly negativeTtlMs = 5_000,
  ) {}

  membership(roomId: string, userId: string): Promise<Membership> {
    const key = `${roomId}\u0000${userId}`;
    const expiresAt = this.members.get(key);
    if (expiresAt !== undefined) {
      if (expiresAt > this.now()) return MEMBER;
      this.members.delete(key);
    }
    const refusal = this.refusals.get(key);
    if (refusal !== undefined) {
      if (refusal.expiresAt > this.now()) return refusal.membership;
      this.refusals.delete(key);
    }
    return this.lookups.get(key) ?? this.lookUp(key, roomId, userId);
  }

  /** The user left or joined the room (or was removed): the next check asks Postgres. */
  forget(roomId: string, userId: string): void {
    const key = `${roomId}\u0000${userId}`;
    this.members.delete(key);
    this.refusals.delete(key);
    // A lookup already in flight may have read the membership before it changed: its answer is not kept.
    this.lookups.delete(key);
  }

  /** Drops expired entries, so that the maps hold only recent checks. */
  sweep(): void {
    const now = this.now();
    for (const [key, expiresAt] of this.members) if (expiresAt <= now) this.members.delete(key);
    for (const [key, refusal] of this.refusals) if (refusal.expiresAt <= now) this.refusals.delete(key);
  }

  get size(): number {
    return this.members.size;
  }

  private lookUp(key: string, roomId: string, userId: string): Promise<Membership> {
    const lookup: Promise<Membership> = this.store.access(roomId, userId).then(
      ({ membership }) => {
        if (this.lookups.get(key) !== lookup) return membership;
        this.lookups.delete(key);
        if (membership === 'member') this.remember(key);
        else this.rememberRefusal(key, membership);
        return membership;
      },
      (error: unknown) => {
        if (this.lookups.get(key) === lookup) this.lookups.delete(key);
        throw error;
      },
    );
    this.lookups.set(key, lookup);
    return lookup;
  }

  private rememberRefusal(key: string, membership: Membership): void {
    if (this.refusals.size >= this.maxEntries) {
      const oldest = this.refusals.keys().next();
      if (!oldest.done) this.refusals.delete(oldest.value);
    }
    this.refusals.set(key, { membership: Promise.resolve(membership), expiresAt: this.now() + this.negativeTtlMs });
  }

  private remember(key: string): void {
    if (this.members.size >= this.maxEntries) {
      const oldest = this.members.keys().next();
      if (!oldest.done) this.members.delete(oldest.value);
    }
    this.members.set(key, this.now() + this.ttlMs);
  }
}
