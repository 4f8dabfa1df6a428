// Each k6 scenario, small and short, against two gateways behind the local
// ingress: k6 must pass its thresholds, and its summary must show every expected
// delivery made, none twice, none out of order. The p99 budget here is loose on
// purpose: speed is the benchmarks' business, this checks the accounting end to end.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startIngress, startTestStack, type TestIngress, type TestStack } from '@chat/testkit';
import { runScenario } from '../run.mjs';

const VUS = 4;
let stack: TestStack;
let ingress: TestIngress;
const summaries = mkdtempSync(join(tmpdir(), 'k6-smoke-'));

before(async () => {
  stack = await startTestStack({ gateways: 2 });
  ingress = await startIngress(stack.gateways);
});
after(async () => {
  await ingress?.stop();
  await stack?.stop();
  rmSync(summaries, { recursive: true, force: true });
});

interface Summary {
  metrics: Record<string, { count?: number; 'p(99)'?: number; thresholds?: Record<string, boolean> }>;
}

async function smoke(scenario: string): Promise<Summary> {
  const summaryFile = join(summaries, `${scenario}.json`);
  let output = '';
  const code = await runScenario(scenario, {
    env: { BASE_URL: ingress.url, VUS: String(VUS), ROOMS: '2', RATE: '2', DURATION: '10', DRAIN: '3', WARMUP: '3', P99_BUDGET_MS: '5000' },
    args: ['--quiet', '--summary-export', summaryFile],
    onOutput: (chunk) => (output += chunk),
  });
  assert.equal(code, 0, `k6 ${scenario} exited with ${code}:\n${output.slice(-4000)}`);
  return JSON.parse(readFileSync(summaryFile, 'utf8')) as Summary;
}

function assertExactDelivery(summary: Summary): void {
  const count = (name: string) => summary.metrics[name]?.count ?? Number.NaN;
  // 4 VUs × 2 msg/s × 10 s, each received by the 2 VUs of its room.
  assert.ok(count('chat_sends_acked') >= VUS * 2 * 10 * 0.9, `sends acked: ${count('chat_sends_acked')}`);
  assert.equal(count('chat_messages_delivered'), count('chat_messages_expected'));
  assert.equal(count('chat_messages_delivered'), count('chat_deliveries_expected_by_acks'));
  assert.equal(count('chat_messages_lost'), 0);
  assert.equal(count('chat_receivers_settled'), VUS);
  assert.equal(count('chat_messages_duplicated'), 0);
  assert.equal(count('chat_messages_reordered'), 0);
  assert.ok(Number.isFinite(summary.metrics.chat_delivery_latency?.['p(99)']), 'delivery latency was measured');
}

for (const scenario of ['websocket', 'sse', 'long-poll']) {
  test(`the ${scenario} k6 scenario delivers every acknowledged message exactly once, in order, through nginx`, async () => {
    assertExactDelivery(await smoke(scenario));
  });
}
