import { monotonicNow } from '@chat/runtime';
import type { UserRef } from '@chat/protocol';
import type { EphemeralLog } from '../ports/ephemeral-log';
import { requireMembership, type MemberCheck } from '../ports/access';

/**
 * Typing indicators: checked like a send, throttled to one per user and room
 * per interval (the rest are dropped: a client sends one per keystroke burst),
 * and published as ephemeral room events that nothing stores, without waiting
 * for Kafka (one that does not reach it is lost, as a late one would be useless).
 */
export class TypingNotifier {
  private readonly lastSent = new Map<string, number>();

  constructor(
    private readonly members: MemberCheck,
    private readonly log: EphemeralLog,
    private readonly intervalMs = 1_000,
    private readonly now: () => number = monotonicNow,
  ) {}

  /** Resolves true when the indicator went out, false when it was throttled. */
  async notify(user: UserRef, room: string): Promise<boolean> {
    // Throttled first: a typist sends one per keystroke burst, and a dropped one needs no database read.
    // Only a member ever gets a throttle entry, so a non-member is always refused below.
    const key = `${user.id}\u0000${room}`;
    if (this.now() - (this.lastSent.get(key) ?? -Infinity) < this.intervalMs) return false;
    requireMembership(await this.members.membership(room, user.id), room);
    this.lastSent.set(key, this.now());
    // Best effort, not awaited: an indicator Kafka does not take (away, or its small queue full) is dropped.
    this.log.typing({ type: 'typing', room, user }).catch(() => undefined);
    return true;
  }

  /** Forgets throttles that have run out, so the map holds only users typing now. */
  sweep(): void {
    const now = this.now();
    for (const [key, at] of this.lastSent) if (now - at >= this.intervalMs) this.lastSent.delete(key);
  }
}
