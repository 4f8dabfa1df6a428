import type { Metric, Registry } from 'prom-client';

/**
 * Histogram buckets, in seconds, for the steps of a message's trip through Kafka and the services: fine
 * below 25 ms, where a healthy step lies and the latency target is, so that a p99 read from them
 * (histogram_quantile, or the latency benchmark) is not a bucket wide.
 */
export const LATENCY_BUCKETS_SECONDS = [0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.035, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The registry's metric of that name, made on first use: several producers or consumers of one process may report
 * to its registry, and prom-client refuses a name registered twice.
 */
export function sharedMetric<T extends Metric>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}
