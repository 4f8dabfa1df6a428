import type { Logger } from 'pino';
import { shutdownTelemetry } from '@chat/telemetry';

export interface ShutdownOptions {
  /** Hard limit for the whole sequence; past it the process exits non-zero. */
  timeoutMs?: number;
}

/**
 * Runs `shutdown` once on SIGTERM or SIGINT, then exits. A second signal, or
 * the time limit, exits at once: an orchestrator's patience is finite.
 */
export function onShutdownSignal(logger: Logger, shutdown: (signal: string) => Promise<void>, options: ShutdownOptions = {}): void {
  const { timeoutMs = 30_000 } = options;
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal, exiting now');
      process.exit(1);
    }
    stopping = true;
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
