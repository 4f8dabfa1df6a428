import { ValueType, type HrTime } from '@opentelemetry/api';
import { hrTime } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  type CollectionResult,
  type MetricData,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import type { MetricObjectWithValues, MetricValueWithName, Registry } from 'prom-client';

/**
 * Exports the prom-client registries over OTLP: the series are defined once,
 * with prom-client, and /metrics and OTLP show the same numbers. Counters become
 * cumulative monotonic sums, gauges gauges, histograms histograms (prom-client's
 * cumulative `le` buckets turned into per-bucket counts). Summaries are skipped:
 * OTLP has no lossless equivalent and nothing of ours uses one.
 */
export class PrometheusBridge implements MetricProducer {
  private readonly registries = new Set<Registry>();
  private readonly startTime: HrTime = hrTime();

  add(registry: Registry): void {
    this.registries.add(registry);
  }

  async collect(): Promise<CollectionResult> {
    const now = hrTime();
    const metrics: MetricData[] = [];
    const errors: unknown[] = [];
    for (const registry of this.registries) {
      try {
        for (const metric of (await registry.getMetricsAsJSON()) as Array<MetricObjectWithValues<MetricValueWithName<string>>>) {
          const converted = toMetricData(metric, this.startTime, now);
          if (converted) metrics.push(converted);
        }
      } catch (error) {
        errors.push(error);
      }
    }
    return {
      // The reader keeps the SDK's resource and only takes the scope metrics from here.
      resourceMetrics: { resource: resourceFromAttributes({}), scopeMetrics: [{ scope: { name: 'prom-client' }, metrics }] },
      errors,
    };
  }
}

type PromMetric = MetricObjectWithValues<MetricValueWithName<string>>;

export function toMetricData(metric: PromMetric, startTime: HrTime, endTime: HrTime): MetricData | undefined {
  const descriptor = { name: metric.name, description: metric.help, unit: '', valueType: ValueType.DOUBLE };
  const point = (value: MetricValueWithName<string>) => ({ startTime, endTime, attributes: { ...value.labels }, value: value.value });
  switch (String(metric.type)) {
    case 'counter':
      return {
        descriptor,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.SUM,
        isMonotonic: true,
        dataPoints: metric.values.map(point),
      };
    case 'gauge':
      return {
        descriptor,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.GAUGE,
        dataPoints: metric.values.map(point),
      };
    case 'histogram':
      return {
        descriptor,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.HISTOGRAM,
        dataPoints: histogramPoints(metric, startTime, endTime),
      };
    default:
      return undefined;
  }
}

/** prom-client lists `_bucket` (cumulative, by `le`), `_sum` and `_count` values per label set. */
function histogramPoints(metric: PromMetric, startTime: HrTime, endTime: HrTime) {
  const series = new Map<string, { attributes: Record<string, string | number>; le: Array<[number, number]>; sum: number; count: number }>();
  for (const value of metric.values) {
    const { le, ...labels } = value.labels;
    const key = JSON.stringify(Object.entries(labels).sort());
    let entry = series.get(key);
    if (!entry) {
      entry = { attributes: labels as Record<string, string | number>, le: [], sum: 0, count: 0 };
      series.set(key, entry);
    }
    if (value.metricName?.endsWith('_bucket')) entry.le.push([le === '+Inf' ? Infinity : Number(le), value.value]);
    else if (value.metricName?.endsWith('_sum')) entry.sum = value.value;
    else if (value.metricName?.endsWith('_count')) entry.count = value.value;
  }
  return [...series.values()].map((entry) => {
    const sorted = entry.le.sort((a, b) => a[0] - b[0]);
    const boundaries = sorted.filter(([bound]) => Number.isFinite(bound)).map(([bound]) => bound);
    const counts = sorted.map(([, cumulative], i) => cumulative - (i > 0 ? sorted[i - 1]![1] : 0));
    if (sorted.length === boundaries.length) counts.push(entry.count - (sorted.at(-1)?.[1] ?? 0));
    return {
      startTime,
      endTime,
      attributes: entry.attributes,
      value: { buckets: { boundaries, counts }, sum: entry.sum, count: entry.count },
    };
  });
}
