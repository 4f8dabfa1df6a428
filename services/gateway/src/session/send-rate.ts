import { monotonicNow } from '@chat/runtime';

/**
 * Token buckets by key (a user, an address): `ratePerSecond` sustained, `burst` at once.
 * Per gateway replica; with N replicas behind a balancer a key gets at most N times the rate.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; updatedAt: number }>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = monotonicNow,
  ) {}

  /** Takes one token; returns 0 when allowed, otherwise the milliseconds until the next token. */
  take(key: string): number {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, updatedAt: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.ratePerSecond);
    bucket.updatedAt = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) / this.ratePerSecond) * 1000);
  }

  /** Forgets full buckets so that the map holds only keys that spent tokens recently. */
  sweep(): void {
    const now = this.now();
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.ratePerSecond >= this.burst) this.buckets.delete(key);
    }
  }
}

/** The sends' buckets: per user (`SEND_RATE_PER_SECOND`, `SEND_BURST`). */
export class SendRateLimiter extends TokenBuckets {}
