// `npm run chaos -- --minutes N --brokers 3 --seed S [--history FILE] [--raw]`: the long soak. A deployment of its own (a
// cluster of `--brokers` brokers, Postgres, two gateways, two messaging replicas, presence), the traffic of every kind
// of client, and the nemesis with every fault kind for N minutes; then every fault healed, the run settled, and the
// checker's verdict with the run's figures (docs/reliability.md says what they mean). Exits 1 on any anomaly.
import { parseArgs } from 'node:util';
import type { HistoryOp } from '@chat/chaos';
import { FaultStack } from './fault-stack';
import { runNemesis } from './nemesis';
import { Workload } from './workload';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    brokers: { type: 'string', default: '3' },
    seed: { type: 'string' },
    history: { type: 'string' },
    // Each frame's raw text in the history too (as the test files keep it); without it an hour holds ~1 GB less.
    raw: { type: 'boolean', default: false },
  },
});
const minutes = Number(values.minutes);
const brokers = Number(values.brokers);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
if (!(minutes > 0) || !Number.isInteger(brokers) || brokers < 1 || !Number.isInteger(seed)) {
  console.error('usage: npm run chaos -- --minutes N --brokers 3 --seed S [--history FILE] [--raw]');
  process.exit(2);
}

const started = Date.now();
console.log(`chaos: ${minutes} min, ${brokers} brokers, seed ${seed}`);
const stack = await FaultStack.start({ brokers });
let code = 1;
try {
  const workload = new Workload(stack, { name: 'soak', rooms: 4, keepRawFrames: values.raw });
  await workload.start();
  workload.startSending();
  // A calm of 45 s every 5 minutes: the lag bound (30 s after a heal) is judged there, not only at the end.
  const summary = await runNemesis(stack, { seed, durationMs: minutes * 60_000, calmEveryMs: 300_000, calmMs: 45_000, log: (line) => console.log(`${new Date().toISOString()} ${line}`) });
  await workload.run(5_000);
  await workload.stopSending();
  await workload.settle(120_000);
  const { report, text, results } = await workload.finish();
  if (values.history) await workload.history.writeJsonLines(values.history);

  const tally = (outcome: string) => results.filter((result) => result === outcome).length;
  console.log(`\n${text}\n`);
  console.log('| figure | value |\n|---|---|');
  console.log(`| command | \`npm run chaos -- --minutes ${minutes} --brokers ${brokers} --seed ${seed}\` |`);
  console.log(`| wall time | ${((Date.now() - started) / 60_000).toFixed(1)} min |`);
  console.log(`| faults injected | ${summary.total}: ${Object.entries(summary.injected).map(([kind, n]) => `${kind} ${n}`).join(', ')} |`);
  console.log(`| messages sent (logical) | ${results.length}: ${tally('ack')} acked, ${tally('refused')} refused, ${tally('indeterminate')} indeterminate, ${tally('unsent')} unsent |`);
  console.log(`| attempts | ${report.counts.attempts} |`);
  console.log(`| deliveries checked | ${report.counts.deliveries} (${report.counts.receivers} receivers) |`);
  console.log(`| anomalies | ${Object.keys(report.anomalyCounts).length === 0 ? '0' : JSON.stringify(report.anomalyCounts)} |`);
  console.log(`| longest time to heal | ${report.longestHealMs ?? 0} ms |`);
  console.log('\n| process | RSS start → end (MiB) | open files start → end |\n|---|---|---|');
  for (const [name, { first, last }] of samplesByProcess(workload.history.ops)) {
    const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
    console.log(`| ${name} | ${mib(first.rssBytes)} → ${mib(last.rssBytes)} | ${first.openFiles ?? "?"} → ${last.openFiles ?? "?"} |`);
  }
  code = Object.keys(report.anomalyCounts).length === 0 ? 0 : 1;
} catch (error) {
  console.error(error);
} finally {
  await stack.stop().catch((error: unknown) => console.error(error));
}
process.exit(code);

function samplesByProcess(ops: readonly HistoryOp[]) {
  const byName = new Map<string, { first: { rssBytes: number; openFiles?: number }; last: { rssBytes: number; openFiles?: number } }>();
  for (const op of ops) {
    if (op.op !== 'process-sample') continue;
    const entry = byName.get(op.process);
    if (entry) entry.last = op;
    else byName.set(op.process, { first: op, last: op });
  }
  return [...byName].sort(([a], [b]) => a.localeCompare(b));
}
