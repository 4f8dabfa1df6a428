import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { GatewayMetrics } from './metrics';
import { ConnectionRegistry } from './session/connections';

async function deliveredTotal(registry: Registry): Promise<number> {
  const text = await registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith('chat_messages_out_total '));
  return Number(line?.split(' ')[1]);
}

test('chat_messages_out_total adds the deliveries counted since the last scrape, each once', async () => {
  const registry = new Registry();
  const metrics = new GatewayMetrics(registry, new ConnectionRegistry({ perUser: 10, perIp: 10 }));
  assert.equal(await deliveredTotal(registry), 0);
  for (let i = 0; i < 3; i++) metrics.countDelivery();
  assert.equal(await deliveredTotal(registry), 3);
  metrics.countDelivery();
  metrics.countDelivery();
  assert.equal(await deliveredTotal(registry), 5);
  assert.equal(await deliveredTotal(registry), 5, 'a scrape with nothing new adds nothing');
});
