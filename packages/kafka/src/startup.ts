import type { Logger } from 'pino';

export interface StartupRetryOptions {
  /** Past this (from the first attempt), the last error is thrown: the process exits for its supervisor. */
  deadlineMs?: number;
  /** The first wait between attempts; it doubles, up to `maxDelayMs`. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  logger?: Logger;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/**
 * Whether a start-up step's failure may pass with time: a broker that reset or refused a connection (one restarting, a
 * leader moving), or kafkajs' own retries spent against one that was out of reach. An error kafkajs calls final for
 * another reason (authentication, authorization, a topic that does not exist) fails the start at once.
 */
export function isTransientKafkaError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { name, retriable } = error as Error & { retriable?: boolean };
  return retriable === true || name === 'KafkaJSConnectionError' || name === 'KafkaJSNumberOfRetriesExceeded' || name === 'KafkaJSRequestTimeoutError';
}

/**
 * Runs a Kafka step of a service's start-up (connecting a producer, joining a consumer group) again after a transient
 * failure, with a doubling backoff, until `deadlineMs`. kafkajs retries a request, not a connection that a broker
 * killed under it resets: without this, a replica that starts while one of three brokers restarts exits at once,
 * though the cluster can serve it.
 */
export async function retryWhileStarting<T>(what: string, step: () => Promise<T>, options: StartupRetryOptions = {}): Promise<T> {
  const { deadlineMs = 60_000, initialDelayMs = 250, maxDelayMs = 5_000, logger } = options;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? (() => performance.now());
  const deadline = now() + deadlineMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      const delayMs = Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1));
      if (!isTransientKafkaError(error) || now() + delayMs > deadline) throw error;
      logger?.warn({ err: error, attempt, delayMs }, `${what} failed; trying again`);
      await sleep(delayMs);
    }
  }
}
