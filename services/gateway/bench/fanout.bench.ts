/**
 * Fan-out benchmark (not a test): deliveries per second from one server
 * process to the 1,000 WebSocket members of one room, ours next to Socket.IO
 * and Centrifugo in the same run. A sender publishes at a fixed rate, once at
 * about what the fastest delivers and once above what any of them delivers;
 * the clients count what arrives. Ours sends
 * through the whole pipeline (gateway → Kafka → messaging → Postgres → Kafka →
 * gateway); the peers broadcast from memory. Run through `npm run bench -- fanout`.
 */
import { barChartSvg, emitChart, emitMarkdown } from './harness/report';
import { LoadProcess } from './harness/load-process';
import { LABELS, startSystem } from './harness/systems';
import type { SystemName } from './load/connectors';
import type { FanoutResult } from './load/generator';

const RECEIVERS = Number(process.env.BENCH_FANOUT_RECEIVERS ?? 1000);
/**
 * Two runs per server: at 400 messages/s (400,000 deliveries/s asked for, which every server keeps up with, so
 * the figure shows each one's delay to its last delivery), and at 4,000/s, which none of them keeps up with: there
 * the figure is each server's ceiling. (At 2,000/s, the ceiling's rate until 2026-11-24, ours and Centrifugo both
 * came within a few tenths of the 2,000,000 asked for, so the rate asked for capped them.)
 */
const RUNS = (process.env.BENCH_FANOUT_RUNS ?? '400:2000,4000:8000').split(',').map((run) => {
  const [rate, messages] = run.split(':').map(Number);
  return { rate: rate!, messages: messages! };
});
/** Sent first at the run's rate and not counted: every server is measured warm. */
const WARMUP_MESSAGES = Number(process.env.BENCH_FANOUT_WARMUP_MESSAGES ?? 1000);
const SYSTEMS = (process.env.BENCH_SYSTEMS ?? 'ours,socketio,centrifugo').split(',') as SystemName[];

type Run = { system: SystemName; rate: number; messages: number } & FanoutResult;
const perCpuSecond = (r: FanoutResult) => Math.round(r.deliveries / r.serverCpuSeconds);
const results: Run[] = [];
for (const [index, name] of SYSTEMS.entries()) {
  for (const [runIndex, { rate, messages }] of RUNS.entries()) {
    const system = await startSystem(name, { rooms: 1, messaging: true });
    const load = await LoadProcess.start();
    try {
      const addresses = Array.from({ length: 4 }, (_, i) => `127.0.${20 + index * RUNS.length + runIndex}.${10 + i}`);
      const result = await load.run<FanoutResult>({ op: 'fanout', target: system.target, room: system.rooms[0]!, receivers: RECEIVERS, messages, warmupMessages: WARMUP_MESSAGES, rate, addresses, serverPid: system.pid });
      results.push({ system: name, rate, messages, ...result });
      console.log(
        `${name} at ${rate}/s: ${result.perSecond.toLocaleString('en')} deliveries/s (${result.deliveries}/${result.expected} in ${result.seconds.toFixed(2)} s); ` +
          `server CPU ${result.serverCpuSeconds.toFixed(2)} s, ${perCpuSecond(result).toLocaleString('en')} deliveries per CPU-second; machine ${Math.round(result.machineBusy * 100)} % busy`,
      );
    } finally {
      await load.stop();
      await system.stop();
    }
  }
}

const ours = (rate: number) => results.find((r) => r.system === 'ours' && r.rate === rate);
const ratio = (r: Run, measure: (run: Run) => number) => {
  const own = ours(r.rate);
  return own ? `${(measure(own) / measure(r)).toFixed(2)}×` : '—';
};
const fmt = (n: number) => n.toLocaleString('en');
emitMarkdown(`## Fan-out: one room of ${fmt(RECEIVERS)} WebSocket members

One server process; ${fmt(RECEIVERS)} clients in one room; one sender publishes 100-character messages at a fixed rate:
${RUNS.map((r) => `${fmt(r.messages)} messages at ${fmt(r.rate)}/s (${fmt(r.rate * RECEIVERS)} deliveries/s asked for)`).join(', and ')},
each after ${fmt(WARMUP_MESSAGES)} messages at the same rate that are not counted (a deployed server runs warm).
Deliveries/s = deliveries counted at the clients / (last delivery − first send), so a server's delay to its last
delivery counts against it. The clients are one separate process reading raw WebSocket frames for all three servers
(Socket.IO's engine.io framing is read directly), so counting a frame costs the same everywhere; Centrifugo packs
several publications into one frame when they queue, which makes its frames fewer. Ours goes through Kafka, the messaging
service and Postgres, which run on the same 2 cores; the peers broadcast from memory. "Delivered" below the expected
count means the server dropped deliveries or clients. Target: ≥ Centrifugo's and ≥ 2× Socket.IO's.

Server CPU is the CPU time of the server process alone over the same interval (\`/proc/<pid>/stat\`; for ours the
gateway, not Kafka, the messaging service or Postgres), so deliveries per CPU-second compare the work each server does
per delivery. Node runs JavaScript on one thread; Centrifugo's Go runtime spreads over both cores. "Machine busy" is
the share of both cores in use by every process meanwhile.

| asked | server | deliveries/s | delivered | seconds | ours ÷ this | server CPU | deliveries per CPU-second | ours ÷ this, per CPU-second | machine busy |
|---|---|---|---|---|---|---|---|---|---|
${results
  .map(
    (r) =>
      `| ${fmt(r.rate)}/s | ${LABELS[r.system]} | ${fmt(r.perSecond)} | ${fmt(r.deliveries)} / ${fmt(r.expected)} | ${r.seconds.toFixed(2)} | ${ratio(r, (x) => x.perSecond)} | ` +
      `${r.serverCpuSeconds.toFixed(2)} s (${(r.serverCpuSeconds / r.seconds).toFixed(2)} cores) | ${fmt(perCpuSecond(r))} | ${ratio(r, perCpuSecond)} | ${Math.round(r.machineBusy * 100)} % |`,
  )
  .join('\n')}

![Fan-out deliveries per second](benchmarks/fanout.png)
`);
emitChart(
  'fanout',
  barChartSvg({
    title: `Fan-out to ${fmt(RECEIVERS)} WebSocket members of one room (one process)`,
    unit: 'deliveries per second',
    groups: RUNS.map((r) => `${fmt(r.rate)} messages/s asked`),
    series: SYSTEMS.map((system) => ({ name: LABELS[system], values: RUNS.map((run) => results.find((r) => r.system === system && r.rate === run.rate)?.perSecond ?? NaN) })),
  }),
);
