export interface BackoffOptions {
  /** The first retry waits up to this (uniformly random). */
  baseMs: number;
  /** Doubling stops here. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 100, maxMs: 2_000 };

/** Full jitter: uniformly random up to base × 2^attempt, capped. */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  return random() * Math.min(options.maxMs, options.baseMs * 2 ** attempt);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
