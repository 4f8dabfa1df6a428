import type { Logger } from 'pino';
import { shutdownTelemetry } from '@chat/telemetry';

export interface ShutdownOptions {
  /** Hard limit for the whole sequence; past it the process exits non-zero. */
  timeoutMs?: number;
}

/**
 * A second signal this soon after the first is the same request arriving twice, not an impatient one: a terminal's
 * Ctrl-C reaches every process of its group while the supervisor (npm start) sends its own SIGTERM.
 */
export const REPEATED_SIGNAL_MS = 1_000;

/** The shutdown that onShutdownSignal installed, for the process to start itself. */
export interface Shutdown {
  /**
   * Runs the shutdown a signal runs, for a reason of the process's own (a Kafka consumer that will not come back), and
   * then exits with `exitCode` however it ends, in time or not: the process is to be restarted either way. Does
   * nothing when a shutdown is under way already.
   */
  begin(reason: string, exitCode: number): void;
}

/**
 * Runs `shutdown` once on SIGTERM or SIGINT (or `begin`), then exits. A second signal more than REPEATED_SIGNAL_MS
 * later, or the time limit, exits at once: an orchestrator's patience is finite.
 */
export function onShutdownSignal(logger: Logger, shutdown: (reason: string) => Promise<void>, options: ShutdownOptions = {}): Shutdown {
  const { timeoutMs = 30_000 } = options;
  let stoppingSince: number | undefined;
  /** `exitCode`: what every ending exits with; undefined for a signal's (0 when clean, 1 otherwise). */
  const start = (reason: string, exitCode: number | undefined) => {
    stoppingSince = performance.now();
    const timer = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown took too long, exiting');
      process.exit(exitCode ?? 1);
    }, timeoutMs);
    timer.unref();
    // Spans and metrics still buffered go out last, so the shutdown itself is in them.
    const flushTelemetry = () => shutdownTelemetry().catch(() => undefined);
    shutdown(reason).then(
      async () => {
        await flushTelemetry();
        logger.info({ exitCode: exitCode ?? 0 }, 'shut down cleanly');
        process.exit(exitCode ?? 0);
      },
      async (error: unknown) => {
        await flushTelemetry();
        logger.error({ err: error }, 'shutdown failed');
        process.exit(exitCode ?? 1);
      },
    );
  };
  const handle = (signal: NodeJS.Signals) => {
    if (stoppingSince !== undefined) {
      if (performance.now() - stoppingSince < REPEATED_SIGNAL_MS) return;
      logger.warn({ signal }, 'second signal, exiting now');
      process.exit(1);
    }
    logger.info({ signal }, 'shutting down');
    start(signal, undefined);
  };
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);
  return {
    begin(reason, exitCode) {
      if (stoppingSince !== undefined) return;
      logger.warn({ reason, exitCode }, 'shutting down');
      start(reason, exitCode);
    },
  };
}
