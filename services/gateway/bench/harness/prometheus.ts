/**
 * Percentiles of a Prometheus histogram over an interval, from two scrapes of a service's /metrics: the
 * bucket counts' differences, interpolated within the bucket as PromQL's histogram_quantile does.
 */

/** Scrapes of every process of a system, by process name. */
export type Scrape = Record<string, string>;

/** Cumulative bucket counts (by upper bound) of the series of `name` whose labels contain `labels`, summed. */
function buckets(text: string, name: string, labels: string): Map<number, number> {
  const counts = new Map<number, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}_bucket{`) || !line.includes(labels)) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    counts.set(bound, (counts.get(bound) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return counts;
}

export interface Quantiles {
  count: number;
  /** Milliseconds; NaN when nothing was observed. */
  p50: number;
  p99: number;
}

export function intervalQuantiles(before: string, after: string, name: string, labels = ''): Quantiles {
  const start = buckets(before, name, labels);
  const end = buckets(after, name, labels);
  const bounds = [...end.keys()].sort((a, b) => a - b);
  const cumulative = bounds.map((bound) => (end.get(bound) ?? 0) - (start.get(bound) ?? 0));
  const count = cumulative.at(-1) ?? 0;
  const quantile = (q: number): number => {
    if (count === 0) return NaN;
    const rank = q * count;
    const index = cumulative.findIndex((c) => c >= rank);
    const upper = bounds[index]!;
    // Past the last finite bound there is nothing to interpolate toward: report that bound, as PromQL does.
    if (upper === Infinity) return bounds[index - 1]! * 1000;
    const lower = index === 0 ? 0 : bounds[index - 1]!;
    const below = index === 0 ? 0 : cumulative[index - 1]!;
    const inBucket = cumulative[index]! - below;
    return (lower + (upper - lower) * (inBucket === 0 ? 1 : (rank - below) / inBucket)) * 1000;
  };
  return { count, p50: quantile(0.5), p99: quantile(0.99) };
}
