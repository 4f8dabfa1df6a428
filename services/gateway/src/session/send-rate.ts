import { monotonicNow } from '@chat/runtime';

/**
 * Per-user token buckets for sends: `ratePerSecond` sustained, `burst` at once.
 * Per gateway replica; with N replicas behind a balancer a user gets at most N times the rate.
 */
export class SendRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; updatedAt: number }>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = monotonicNow,
  ) {}

  /** Takes one token; returns 0 when allowed, otherwise the milliseconds until the next token. */
  take(userId: string): number {
    const now = this.now();
    const bucket = this.buckets.get(userId) ?? { tokens: this.burst, updatedAt: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.ratePerSecond);
    bucket.updatedAt = now;
    this.buckets.set(userId, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) / this.ratePerSecond) * 1000);
  }

  /** Forgets full buckets so that the map holds only users who sent recently. */
  sweep(): void {
    const now = this.now();
    for (const [userId, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.ratePerSecond >= this.burst) this.buckets.delete(userId);
    }
  }
}
