export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 30_000 };

/**
 * "Full jitter": a uniformly random wait between 0 and the exponential bound,
 * so that clients dropped together (a gateway restart) do not come back together.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const bound = Math.min(options.maxMs, options.initialMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * bound);
}
