import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { ConsumerLag } from './consumer-lag';

type Values = Array<{ metricName?: string; labels: Record<string, string | number>; value: number }>;

async function values(registry: Registry, name: string): Promise<Values> {
  const [metric] = (await registry.getMetricsAsJSON()).filter((m) => m.name === name);
  return (metric?.values ?? []) as Values;
}

test('a fetched batch sets the offset lag of its partition and the age of each of its records', async () => {
  const registry = new Registry();
  const lag = new ConsumerLag(registry, 'g');
  const now = Date.now();
  lag.observe({
    topic: 't',
    partition: 2,
    offsetLag: () => '7',
    messages: [{ timestamp: String(now - 40) }, { timestamp: String(now - 3_000) }] as never,
  });
  lag.observe({ topic: 't', partition: 3, offsetLag: () => '0', messages: [] });

  const offsets = await values(registry, 'chat_kafka_consumer_lag');
  assert.deepEqual(
    offsets.map((v) => [v.labels.partition, v.value]),
    [
      ['2', 7],
      ['3', 0],
    ],
  );
  const ages = await values(registry, 'chat_kafka_record_age_seconds');
  const at = (suffix: string, le?: number) =>
    ages.find((v) => v.metricName === `chat_kafka_record_age_seconds_${suffix}` && v.labels.group === 'g' && v.labels.topic === 't' && (le === undefined || v.labels.le === le))?.value;
  assert.equal(at('count'), 2, 'one observation per record, none for an empty batch');
  assert.equal(at('bucket', 0.035), 0, 'the 40 ms record is not counted younger than it is');
  // Wide of the 40 ms: the age is taken when observed, which a loaded machine may delay.
  assert.equal(at('bucket', 0.25), 1);
  assert.equal(at('bucket', 2.5), 1);
  assert.equal(at('bucket', 5), 2, 'the 3 s record');
});
