import pino, { type Logger } from 'pino';
import { readConfig, str } from './config';

export type { Logger };

export const loggerConfigSpec = {
  // Any text: pino refuses an unknown level at start-up itself.
  logLevel: str('LOG_LEVEL', 'info', { doc: 'The least severe records written: `trace`, `debug`, `info`, `warn`, `error`, `fatal` or `silent`.' }),
};

/**
 * Structured JSON logs, one line per record, as Fastify writes them. Written synchronously, as Node
 * writes its own stdout to a pipe: the services log little (no per-request lines), and pino's
 * asynchronous default flushes its buffer once more on exit, a flush that sonic-boom 4 retries forever
 * when the reader has gone (EPIPE), so a service whose supervisor died never exited after SIGTERM.
 */
export function createLogger(service: string, level = readConfig(loggerConfigSpec).logLevel): Logger {
  return pino(
    {
      level,
      base: { service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ fd: 1, sync: true }),
  );
}
