/**
 * Idle connections benchmark (not a test): memory per idle connection held by
 * one server process, per transport, ours next to Socket.IO and Centrifugo in
 * the same run. Memory per connection = (RSS at N − RSS at 0) / N, read from
 * /proc after a full GC (Node servers) and a short settle. Run through
 * `npm run bench -- idle`.
 */
import { barChartSvg, emitChart, emitMarkdown } from './harness/report';
import { LoadProcess } from './harness/load-process';
import { LABELS, rssBytes, settle, startSystem, type RunningSystem } from './harness/systems';
import type { SystemName } from './load/connectors';
import type { Transport } from './load/generator';

/** 10k and 20k, or as close to 20k as the open-file limit of one process allows (server and load generator alike). */
const MOST = Math.min(20_000, Math.floor((Number(process.env.BENCH_NOFILE ?? 20_000) - 500) / 1000) * 1000);
const COUNTS = (process.env.BENCH_IDLE_COUNTS ?? `10000,${MOST}`).split(',').map(Number);
const CASES: Array<{ system: SystemName; transport: Transport }> = [
  { system: 'ours', transport: 'websocket' },
  { system: 'ours', transport: 'sse' },
  { system: 'ours', transport: 'poll' },
  { system: 'socketio', transport: 'websocket' },
  { system: 'centrifugo', transport: 'websocket' },
].filter((c) => !process.env.BENCH_IDLE_CASES || process.env.BENCH_IDLE_CASES.split(',').includes(`${c.system}-${c.transport}`)) as Array<{
  system: SystemName;
  transport: Transport;
}>;

interface Step {
  connections: number;
  rssPerConnection: number;
  heapPerConnection: number;
  rss: number;
  seconds: number;
}

const KIB = 1024;
const MIB = 1024 * 1024;

/** Source addresses of their own per case, so that no case waits for ports another left in TIME_WAIT. */
function addressesFor(caseIndex: number): string[] {
  return Array.from({ length: 10 }, (_, i) => `127.0.${1 + caseIndex}.${10 + i}`);
}

async function waitForStreams(system: RunningSystem, transport: Transport, count: number): Promise<void> {
  if (!system.openStreams) return;
  const deadline = Date.now() + 60_000;
  while ((await system.openStreams(transport)) < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
}

async function measureCase(system: RunningSystem, transport: Transport, caseIndex: number): Promise<Step[]> {
  const load = await LoadProcess.start();
  try {
    await settle(system);
    const rss0 = rssBytes(system.pid);
    const heap0 = await system.heapBytes();
    const steps: Step[] = [];
    let held = 0;
    for (const count of COUNTS) {
      const started = Date.now();
      const { failed } = await load.run<{ opened: number; failed: number }>({
        op: 'idle',
        target: system.target,
        transport,
        room: system.rooms[0]!,
        count: count - held,
        addresses: addressesFor(caseIndex),
      });
      if (failed > 0) throw new Error(`${system.name} ${transport}: ${failed} of ${count - held} connections failed`);
      held = count;
      await waitForStreams(system, transport, count);
      const seconds = (Date.now() - started) / 1000;
      await settle(system);
      const rss = rssBytes(system.pid);
      const heap = await system.heapBytes();
      steps.push({ connections: count, rss, rssPerConnection: (rss - rss0) / count, heapPerConnection: (heap - heap0) / count, seconds });
      console.log(
        `${system.name} ${transport} ${count}: RSS ${(rss / MIB).toFixed(0)} MiB, ${((rss - rss0) / count / KIB).toFixed(2)} KiB/connection RSS, ` +
          `${((heap - heap0) / count / KIB).toFixed(2)} KiB/connection heap (opened in ${seconds.toFixed(1)} s)`,
      );
    }
    await load.run({ op: 'release' });
    return steps;
  } finally {
    await load.stop();
  }
}

const results: Array<{ system: SystemName; transport: Transport; steps: Step[] }> = [];
for (const [index, c] of CASES.entries()) {
  const system = await startSystem(c.system, { rooms: 1, messaging: false });
  try {
    results.push({ ...c, steps: await measureCase(system, c.transport, index) });
  } finally {
    await system.stop();
  }
}

const kib = (bytes: number) => (bytes / KIB).toFixed(1);
const rows = results.flatMap((r) =>
  r.steps.map(
    (s) =>
      `| ${LABELS[r.system]} | ${r.transport === 'poll' ? 'long poll (pending polls)' : r.transport} | ${s.connections.toLocaleString('en')} | ${kib(s.rssPerConnection)} KiB | ${kib(s.heapPerConnection)} KiB | ${(s.rss / MIB).toFixed(0)} MiB | ${s.seconds.toFixed(1)} s |`,
  ),
);
emitMarkdown(`## Idle connections: memory per connection

One server process each; every connection subscribed to one room and idle. Per connection = (RSS at N − RSS at 0) / N,
read from \`/proc/<pid>/status\` after a full GC (Node servers: \`gc()\` on SIGUSR2 from a bench-only preload) and 1.5 s
of settling. Heap: V8's used heap (ours: \`nodejs_heap_size_used_bytes\` from \`/metrics\`), Go's in-use heap for Centrifugo.
The load generator is a separate process on loopback. Target: ≤ 8 KiB per idle WebSocket.

| server | transport | connections | RSS per connection | heap per connection | RSS at N | time to open |
|---|---|---|---|---|---|---|
${rows.join('\n')}

![Memory per idle connection](benchmarks/idle-memory.png)
`);
const series = results.map((r) => ({ name: `${r.system === 'ours' ? 'ours' : LABELS[r.system].split(' ')[0]} ${r.transport}`, values: r.steps.map((s) => s.rssPerConnection / KIB) }));
emitChart(
  'idle-memory',
  barChartSvg({
    title: 'RSS per idle connection (one server process)',
    unit: 'KiB per connection',
    groups: COUNTS.map((n) => `${n.toLocaleString('en')} connections`),
    series,
    target: { value: 8, label: 'target ≤ 8 KiB per WebSocket' },
  }),
);
