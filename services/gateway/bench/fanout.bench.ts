/**
 * Fan-out benchmark (not a test): deliveries per second from one server
 * process to the 1,000 WebSocket members of one room, ours next to Socket.IO
 * and Centrifugo in the same run. A sender publishes at a fixed rate above
 * what any of them delivers; the clients count what arrives. Ours sends
 * through the whole pipeline (gateway → Kafka → messaging → Postgres → Kafka →
 * gateway); the peers broadcast from memory. Run through `npm run bench -- fanout`.
 */
import { barChartSvg, emitChart, emitMarkdown } from './harness/report';
import { LoadProcess } from './harness/load-process';
import { LABELS, startSystem } from './harness/systems';
import type { SystemName } from './load/connectors';
import type { FanoutResult } from './load/generator';

const RECEIVERS = Number(process.env.BENCH_FANOUT_RECEIVERS ?? 1000);
const MESSAGES = Number(process.env.BENCH_FANOUT_MESSAGES ?? 2000);
const RATE = Number(process.env.BENCH_FANOUT_RATE ?? 400);
const SYSTEMS = (process.env.BENCH_SYSTEMS ?? 'ours,socketio,centrifugo').split(',') as SystemName[];

const results: Array<{ system: SystemName } & FanoutResult> = [];
for (const [index, name] of SYSTEMS.entries()) {
  const system = await startSystem(name, { rooms: 1, messaging: true });
  const load = await LoadProcess.start();
  try {
    const addresses = Array.from({ length: 4 }, (_, i) => `127.0.${20 + index}.${10 + i}`);
    const result = await load.run<FanoutResult>({ op: 'fanout', target: system.target, room: system.rooms[0]!, receivers: RECEIVERS, messages: MESSAGES, rate: RATE, addresses });
    results.push({ system: name, ...result });
    console.log(`${name}: ${result.perSecond.toLocaleString('en')} deliveries/s (${result.deliveries}/${result.expected} in ${result.seconds.toFixed(2)} s)`);
  } finally {
    await load.stop();
    await system.stop();
  }
}

const ours = results.find((r) => r.system === 'ours');
const ratio = (r: FanoutResult) => (ours ? `${(ours.perSecond / r.perSecond).toFixed(2)}×` : '—');
emitMarkdown(`## Fan-out: one room of ${RECEIVERS.toLocaleString('en')} WebSocket members

One server process; ${RECEIVERS.toLocaleString('en')} clients in one room; one sender publishes ${MESSAGES.toLocaleString('en')} messages of
100 characters at ${RATE} messages/s (${(RATE * RECEIVERS).toLocaleString('en')} deliveries/s asked for). Deliveries/s = deliveries counted at
the clients / (last delivery − first send). The clients are one separate process reading raw WebSocket frames for all
three servers (Socket.IO's engine.io framing is read directly), so counting costs the same everywhere. Ours goes through
Kafka, the messaging service and Postgres, which run on the same 2 cores; the peers broadcast from memory.
Target: ≥ Centrifugo's and ≥ 2× Socket.IO's.

| server | deliveries/s | delivered | seconds | ours ÷ this |
|---|---|---|---|---|
${results.map((r) => `| ${LABELS[r.system]} | ${r.perSecond.toLocaleString('en')} | ${r.deliveries.toLocaleString('en')} / ${r.expected.toLocaleString('en')} | ${r.seconds.toFixed(2)} | ${ratio(r)} |`).join('\n')}

![Fan-out deliveries per second](benchmarks/fanout.png)
`);
emitChart(
  'fanout',
  barChartSvg({
    title: `Fan-out to ${RECEIVERS.toLocaleString('en')} WebSocket members of one room (one process)`,
    unit: 'deliveries per second',
    groups: ['deliveries/s'],
    series: results.map((r) => ({ name: LABELS[r.system], values: [r.perSecond] })),
  }),
);
