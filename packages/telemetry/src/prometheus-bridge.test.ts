import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DataPointType, type HistogramMetricData, type SumMetricData, type GaugeMetricData } from '@opentelemetry/sdk-metrics';
import { PrometheusBridge } from './prometheus-bridge';

test('prom-client counters, gauges and histograms come out as OTLP sums, gauges and histograms with the same numbers', async () => {
  const registry = new Registry();
  new Counter({ name: 'sent_total', help: 'sent', labelNames: ['kind'], registers: [registry] }).inc({ kind: 'message' }, 3);
  new Gauge({ name: 'open', help: 'open', registers: [registry] }).set(7);
  const latency = new Histogram({ name: 'latency_seconds', help: 'latency', buckets: [0.1, 1], labelNames: ['room'], registers: [registry] });
  for (const value of [0.05, 0.5, 0.7, 3]) latency.observe({ room: 'a' }, value);
  latency.observe({ room: 'b' }, 0.01);

  const bridge = new PrometheusBridge();
  bridge.add(registry);
  const { resourceMetrics, errors } = await bridge.collect();
  assert.deepEqual(errors, []);
  const byName = new Map(resourceMetrics.scopeMetrics[0]!.metrics.map((m) => [m.descriptor.name, m]));

  const sent = byName.get('sent_total') as SumMetricData;
  assert.equal(sent.dataPointType, DataPointType.SUM);
  assert.equal(sent.isMonotonic, true);
  assert.deepEqual(sent.dataPoints.map((p) => [p.attributes, p.value]), [[{ kind: 'message' }, 3]]);

  const open = byName.get('open') as GaugeMetricData;
  assert.equal(open.dataPointType, DataPointType.GAUGE);
  assert.equal(open.dataPoints[0]!.value, 7);

  const histogram = byName.get('latency_seconds') as HistogramMetricData;
  assert.equal(histogram.dataPointType, DataPointType.HISTOGRAM);
  const roomA = histogram.dataPoints.find((p) => p.attributes.room === 'a')!;
  assert.deepEqual(roomA.value.buckets, { boundaries: [0.1, 1], counts: [1, 2, 1] }, 'per-bucket counts, the last one above every bound');
  assert.equal(roomA.value.count, 4);
  assert.ok(Math.abs(roomA.value.sum! - 4.25) < 1e-9);
  assert.deepEqual(histogram.dataPoints.find((p) => p.attributes.room === 'b')!.value.buckets.counts, [1, 0, 0]);
});
