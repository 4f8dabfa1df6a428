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

/**
 * Runs `shutdown` once on SIGTERM or SIGINT, then exits. A second signal more than REPEATED_SIGNAL_MS later, or
 * the time limit, exits at once: an orchestrator's patience is finite.
 */
export function onShutdownSignal(logger: Logger, shutdown: (signal: string) => Promise<void>, options: ShutdownOptions = {}): void {
  const { timeoutMs = 30_000 } = options;
  let stoppingSince: number | undefined;
  const handle = (signal: NodeJS.Signals) => {
    if (stoppingSince !== undefined) {
      if (performance.now() - stoppingSince < REPEATED_SIGNAL_MS) return;
      logger.warn({ signal }, 'second signal, exiting now');
      process.exit(1);
    }
    stoppingSince = performance.now();
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown took too long, exiting');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    // Spans and metrics still buffered go out last, so the shutdown itself is in them.
    const flushTelemetry = () => shutdownTelemetry().catch(() => undefined);
    shutdown(signal).then(
      async () => {
        await flushTelemetry();
        logger.info('shut down cleanly');
        process.exit(0);
      },
      async (error: unknown) => {
        await flushTelemetry();
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);
}
