import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';

/**
 * One policy for every service's stray errors, installed first thing in each main.ts.
 *
 * - An unhandled rejection is a promise some code forgot to handle. It failed one piece of work (one stream's start,
 *   one presence change), and the others are fine. It is logged with its error, counted in
 *   `chat_unhandled_errors_total`, and the process keeps serving its other connections: exiting would drop every
 *   client of the replica for one bad input.
 * - An uncaught exception unwound some callback midway, and what state it left is unknown. It is logged, and the
 *   process exits non-zero, so that its supervisor (Kubernetes, `npm start`) restarts it on a clean slate.
 *
 * Neither is the normal path: `no-floating-promises` in the lint keeps rejections handled where they happen, and
 * this catches what slips through.
 */
export function installProcessPolicy(logger: Logger, registry: Registry): void {
  const unhandled = new Counter({
    name: 'chat_unhandled_errors_total',
    help: 'Promise rejections no code handled; each is also logged (the process keeps serving)',
    registers: [registry],
  });
  process.on('unhandledRejection', (reason) => {
    unhandled.inc();
    logger.error({ err: reason }, 'unhandled promise rejection (the process keeps serving)');
  });
  process.on('uncaughtException', (error, origin) => {
    logger.fatal({ err: error, origin }, 'uncaught exception: exiting for a restart');
    process.exit(70);
  });
}
