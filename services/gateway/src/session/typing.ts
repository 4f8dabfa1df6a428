import type { UserRef } from '@chat/protocol';
import { ClientError } from '@chat/runtime';
import type { EphemeralLog } from '../kafka/gateway-producer';
import type { MemberCheck } from './membership-cache';

/**
 * Typing indicators: checked like a send, throttled to one per user and room
 * per interval (the rest are dropped: a client sends one per keystroke burst),
 * and published as ephemeral room events that nothing stores.
 */
export class TypingNotifier {
  private readonly lastSent = new Map<string, number>();

  constructor(
    private readonly members: MemberCheck,
    private readonly log: EphemeralLog,
    private readonly intervalMs = 1_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Resolves true when the indicator went out, false when it was throttled. */
  async notify(user: UserRef, room: string): Promise<boolean> {
    // Throttled first: a typist sends one per keystroke burst, and a dropped one needs no database read.
    // Only a member ever gets a throttle entry, so a non-member is always refused below.
    const key = `${user.id}\u0000${room}`;
    if (this.now() - (this.lastSent.get(key) ?? -Infinity) < this.intervalMs) return false;
    const membership = await this.members.membership(room, user.id);
    if (membership === 'no_room') throw new ClientError('not_found', `unknown room ${room}`);
    if (membership === 'not_member') throw new ClientError('forbidden', `not a member of room ${room}`);
    this.lastSent.set(key, this.now());
    await this.log.typing({ type: 'typing', room, user });
    return true;
  }

  /** Forgets throttles that have run out, so the map holds only users typing now. */
  sweep(): void {
    const now = this.now();
    for (const [key, at] of this.lastSent) if (now - at >= this.intervalMs) this.lastSent.delete(key);
  }
}
