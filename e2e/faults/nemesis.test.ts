// The nemesis run of `npm test`: a fixed seed, every kind of fault, overlapping, for a minute and a half under the traffic
// of every kind of client, on a deployment of this file's own; then every fault healed, the run settled and judged.
// `npm run chaos` runs the same for as long as it is told, with a seed of its choosing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FaultStack } from './fault-stack';
import { FAULT_KINDS, runNemesis } from './nemesis';
import { Workload } from './workload';

const SEED = 20261207;
const DURATION_MS = 60_000;

let stack: FaultStack;
before(async () => {
  stack = await FaultStack.start();
});
after(async () => {
  await stack?.stop();
});

test(`a seeded nemesis (seed ${SEED}) of every fault kind for ${DURATION_MS / 1000} s: nothing acknowledged is lost, repeated or reordered`, async (t) => {
  const workload = new Workload(stack, { name: 'nemesis' });
  try {
    await workload.start();
    workload.startSending();
    const summary = await runNemesis(stack, { seed: SEED, durationMs: DURATION_MS, log: (line) => t.diagnostic(line) });
    await workload.run(3_000);
    await workload.stopSending();
    await workload.settle(90_000);
    const { report, text, results, unacked } = await workload.finish();
    const acked = results.filter((outcome) => outcome === 'ack').length;
    t.diagnostic(`nemesis: ${JSON.stringify(summary.injected)}; ${results.length} sends, ${acked} acked, ${report.counts.deliveries} deliveries checked, longest heal ${report.longestHealMs ?? 0} ms`);
    assert.deepEqual(report.anomalyCounts, {}, text);
    assert.equal(report.counts.faultsInjected, summary.total, text);
    // The seed's schedule takes most kinds in two minutes; a change that made it take few would test little.
    assert.ok(Object.keys(summary.injected).length >= FAULT_KINDS.length - 2, `kinds injected: ${JSON.stringify(summary.injected)}`);
    assert.ok(acked >= results.length * 0.8, `${acked} of ${results.length} sends acked (${JSON.stringify(unacked)}):\n${text}`);
  } finally {
    await workload.abort();
  }
});
