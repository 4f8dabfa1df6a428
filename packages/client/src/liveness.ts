/**
 * How long the SDK trusts a connection it hears nothing from. A frozen
 * gateway, a blackholed path or a buffering proxy leave a socket looking open
 * for as long as the OS keeps it (hours): only silence tells.
 */
export interface LivenessOptions {
  /** WebSocket: a `ping` frame after this long without a frame from the server. */
  pingIntervalMs: number;
  /** WebSocket: nothing at all from the server within this long of a ping, and the connection is dead. */
  pongTimeoutMs: number;
  /** SSE: no bytes for this long (events or the server's heartbeat comments), and the stream is dead. */
  sseReadTimeoutMs: number;
  /** Long polling: how long the server may hold a poll (1–30 s). */
  pollTimeoutSeconds: number;
  /** Long polling: a poll not answered within its timeout plus this is abandoned, and the transport reconnects. */
  pollGraceMs: number;
  /** The HTTP requests outside the stream: a send over HTTP (retried), a typing indicator (dropped). */
  requestTimeoutMs: number;
  /** WebSocket: a send with no ack within this takes its connection for dead: it is closed, and the send retried on the next. */
  ackTimeoutMs: number;
  /** A connection open this long is healthy: only then do the backoff and the transport-fallback count start again. */
  healthyAfterMs: number;
}

/**
 * Derived from the gateway's heartbeats: SSE sends a comment at least every
 * 15 s (`SSE_HEARTBEAT_MS`, at most 15 s by contract), so two of them missed is
 * 30 s; a WebSocket is pinged after 15 s of quiet (sooner than the gateway's
 * own 25 s protocol pings, which browsers do not show to scripts) and given
 * 15 s to answer: either streaming transport gives up a silent connection
 * within 30 s. A poll is held 25 s (the gateway's default) plus 10 s.
 */
export const DEFAULT_LIVENESS: LivenessOptions = {
  pingIntervalMs: 15_000,
  pongTimeoutMs: 15_000,
  sseReadTimeoutMs: 30_000,
  pollTimeoutSeconds: 25,
  pollGraceMs: 10_000,
  requestTimeoutMs: 10_000,
  ackTimeoutMs: 10_000,
  healthyAfterMs: 10_000,
};

/** Monotonic: a wall clock that steps (NTP, a resumed laptop) must not kill or spare a connection. */
const now = () => performance.now();

/**
 * Watches a connection for silence with one timer, re-armed only when it fires
 * (`heard()` is a clock read and a field write, so a busy stream costs next to nothing per frame). After
 * `quietMs` without hearing anything it probes (a ping) and waits `answerMs` for
 * anything at all; without a probe, `quietMs` of silence is the end. The answer
 * is counted from the probe, not from the last frame, so a timer that fires
 * late (a background tab's throttled timers) never condemns a connection
 * without asking it first.
 */
export class SilenceWatch {
  private heardAt = now();
  private probedAt: number | undefined;
  private timer: ReturnType<typeof setTimeout>;

  constructor(
    private readonly settings: { quietMs: number; answerMs?: number; probe?: () => void },
    private readonly onSilent: (reason: string) => void,
  ) {
    this.timer = setTimeout(() => this.check(), settings.quietMs);
  }

  heard(): void {
    this.heardAt = now();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private check(): void {
    const { quietMs, answerMs = 0, probe } = this.settings;
    const at = now();
    if (this.probedAt !== undefined) {
      if (this.heardAt <= this.probedAt) {
        const waited = at - this.probedAt;
        if (waited >= answerMs) return this.onSilent(`no answer to a ping within ${answerMs} ms: the connection looks dead`);
        return this.arm(answerMs - waited);
      }
      this.probedAt = undefined;
    }
    const quiet = at - this.heardAt;
    if (quiet < quietMs) return this.arm(quietMs - quiet);
    if (!probe) return this.onSilent(`no bytes for ${quietMs} ms: the stream looks dead`);
    this.probedAt = at;
    probe();
    // Back by the next ping time if the answer is quick, by the deadline otherwise.
    this.arm(Math.min(answerMs, quietMs));
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => this.check(), ms);
  }
}

/**
 * Runs `work` with a signal that aborts after `ms` (and when `parent` aborts):
 * a fetch given it fails with "no answer within …" instead of hanging on a
 * server that accepted the request and went silent.
 */
export async function withDeadline<T>(ms: number, work: (signal: AbortSignal) => Promise<T>, parent?: AbortSignal): Promise<T> {
  const controller = new AbortController();
  const abort = () => controller.abort(parent?.reason);
  if (parent?.aborted) abort();
  parent?.addEventListener('abort', abort);
  const timer = setTimeout(() => controller.abort(new Error(`no answer within ${ms} ms`)), ms);
  try {
    return await work(controller.signal);
  } finally {
    clearTimeout(timer);
    parent?.removeEventListener('abort', abort);
  }
}
