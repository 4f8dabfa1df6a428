/**
 * Milliseconds on a clock that only moves forward, at a steady rate: for TTLs, rate limits, throttles, timeouts and
 * backoff, which measure intervals inside one process. The wall clock (Date.now) steps when NTP corrects it, when a
 * VM resumes or an operator sets it: a step forward would expire every TTL and refill every rate limit at once, one
 * back would hold them for as long. The wall clock stays for instants another process reads (a token's `exp`, a
 * message's `sentAt`).
 */
export function monotonicNow(): number {
  return performance.now();
}
