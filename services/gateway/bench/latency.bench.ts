/**
 * End-to-end latency benchmark (not a test): a message's trip from a sending
 * client to a receiving client at fixed rates, ours (through Kafka, the
 * messaging service and Postgres) next to Socket.IO and Centrifugo (in
 * memory: their figures are a floor, not a like-for-like). Run through
 * `npm run bench -- latency`.
 */
import { availableParallelism } from 'node:os';
import { barChartSvg, emitChart, emitMarkdown } from './harness/report';
import { LoadProcess } from './harness/load-process';
import { LABELS, startSystem } from './harness/systems';
import { createTestTopics, testInfra } from '@chat/testkit';
import type { SystemName } from './load/connectors';
import type { CpuUse, LatencyResult } from './load/generator';
import { intervalQuantiles, type Quantiles, type Scrape } from './harness/prometheus';

const RATES = (process.env.BENCH_LATENCY_RATES ?? '500,2000,5000').split(',').map(Number);
// Long enough for a p99 to be more than one stall: at 2,000/s a 5 s step's p99 is its 100 slowest messages, which one
// 50 ms stall of any part delivers on its own; 10 s steps switched back and forth within one run read 21.6–32.3 ms.
const SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 15);
// The Kafka broker's JVM takes some 40 s under load to reach steady state on this machine: ours at 2,000/s measured
// p50 35–58 ms after a 5 s warm-up and 9–16 ms after a 40 s one, in alternated runs.
const WARMUP_SECONDS = Number(process.env.BENCH_LATENCY_WARMUP_SECONDS ?? 40);
const ROOMS = 10;
const CORES = availableParallelism();
const SYSTEMS = (process.env.BENCH_SYSTEMS ?? 'ours,socketio,centrifugo').split(',') as SystemName[];

const results: Array<{ system: SystemName; rate: number } & LatencyResult> = [];

/**
 * Ours, step by step, from its services' own histograms (docs/observability.md): where a message's time goes. The
 * steps overlap a little (a record's timestamp is taken when its request is encoded, inside the produce time).
 */
const STEPS = [
  { step: 'gateway: send → durable in chat.messages (produce, acks=all)', service: 'gateway', metric: 'chat_kafka_produce_seconds', labels: 'chat.messages"' },
  { step: 'command waits in Kafka for messaging (record age when read)', service: 'messaging', metric: 'chat_kafka_record_age_seconds', labels: 'chat.messages"' },
  { step: 'messaging: Postgres transaction (per batch)', service: 'messaging', metric: 'chat_persist_batch_seconds', labels: '' },
  { step: 'messaging: publish → durable in chat.events', service: 'messaging', metric: 'chat_kafka_produce_seconds', labels: 'chat.events"' },
  { step: 'event waits in Kafka for the gateway (record age when read)', service: 'gateway', metric: 'chat_kafka_record_age_seconds', labels: 'chat.events"' },
  { step: 'all of it: accepted → event at the gateway', service: 'gateway', metric: 'chat_delivery_latency_seconds', labels: '' },
] as const;
const steps = new Map<number, Quantiles[]>();
const stepsOf = (before: Scrape, after: Scrape) =>
  STEPS.map(({ service, metric, labels }) => intervalQuantiles(before[service] ?? '', after[service] ?? '', metric, labels));
const ms = (value: number) => (Number.isNaN(value) ? '—' : value.toFixed(1));
const p50p99 = (q: Quantiles) => `${ms(q.p50)} / ${ms(q.p99)}`;
/** CPU seconds over the measured time: the cores used on average. */
const inCores = (cpu: CpuUse, cpuSeconds: number) => (cpuSeconds / cpu.seconds).toFixed(2);
const cpuSummary = (cpu: CpuUse | undefined) =>
  cpu
    ? `machine ${Math.round(cpu.machineBusy * 100)} % busy; ${Object.entries(cpu.groups).map(([group, used]) => `${group} ${inCores(cpu, used)} cores`).join(', ')}; load generator ${inCores(cpu, cpu.generator)} cores`
    : '—';
/** The servers' CPU per message, every process of the system included (ours: gateway, messaging, Kafka, Postgres). */
const serverMsPerMessage = (cpu: CpuUse, rate: number) => (Object.values(cpu.groups).reduce((sum, used) => sum + used, 0) / cpu.seconds / rate) * 1000;
for (const [index, name] of SYSTEMS.entries()) {
  const system = await startSystem(name, { rooms: ROOMS, messaging: true });
  const load = await LoadProcess.start();
  try {
    const addresses = Array.from({ length: 4 }, (_, i) => `127.0.${30 + index}.${10 + i}`);
    // A warm-up, the same for every system, so that connection set-up and the JIT compilers (V8's, and the
    // Kafka broker's JVM for ours) do not land in the first rate's figures: a deployed server runs warm.
    await load.run({ op: 'latency', target: system.target, rooms: system.rooms, rate: 1000, seconds: WARMUP_SECONDS, addresses });
    for (const rate of RATES) {
      const before = await system.scrape?.();
      const result = await load.run<LatencyResult>({ op: 'latency', target: system.target, rooms: system.rooms, rate, seconds: SECONDS, addresses, cpuOf: system.cpuGroups });
      results.push({ system: name, rate, ...result });
      if (before) {
        const measured = stepsOf(before, await system.scrape!());
        steps.set(rate, measured);
        console.log(`${name} at ${rate}/s, step by step (p50 / p99 ms): ${STEPS.map(({ step }, i) => `${step} ${p50p99(measured[i]!)}`).join('; ')}`);
      }
      const accepted = result.accepted ? `; accepted → delivered p50 ${result.accepted.p50} ms, p99 ${result.accepted.p99} ms` : '';
      console.log(`${name} at ${rate}/s: p50 ${result.p50} ms, p99 ${result.p99} ms, max ${result.max} ms (${result.delivered}/${result.sent})${accepted}; CPU: ${cpuSummary(result.cpu)}`);
    }
  } finally {
    await load.stop();
    await system.stop();
  }
}

// The same two Kafka hops ours takes, with the same client settings and nothing else (load/kafka-floor.ts).
const floor = new Map<number, LatencyResult>();
{
  const { names } = await createTestTopics(6);
  const load = await LoadProcess.start();
  try {
    const job = { op: 'kafka-floor' as const, brokers: testInfra().kafkaBrokers, topics: { commands: names.messages, events: names.events }, rooms: ROOMS };
    await load.run({ ...job, rate: 1000, seconds: WARMUP_SECONDS });
    for (const rate of RATES) {
      const result = await load.run<LatencyResult>({ ...job, rate, seconds: SECONDS });
      floor.set(rate, result);
      console.log(`two bare Kafka hops at ${rate}/s: p50 ${result.p50} ms, p99 ${result.p99} ms, max ${result.max} ms (${result.delivered}/${result.sent})`);
    }
  } finally {
    await load.stop();
  }
}

const figures = (r: LatencyResult | undefined) =>
  r ? `p50 ${r.p50} ms, p99 ${r.p99} ms (${r.delivered.toLocaleString('en')}/${r.sent.toLocaleString('en')})` : '—';
const cell = (system: SystemName, rate: number) => figures(results.find((x) => x.system === system && x.rate === rate));
const acceptedCell = (rate: number) => {
  const r = results.find((x) => x.system === 'ours' && x.rate === rate);
  return r?.accepted ? `p50 ${r.accepted.p50} ms, p99 ${r.accepted.p99} ms` : '—';
};
emitMarkdown(`## End-to-end latency: client send → delivered at a receiving client

${ROOMS} rooms, one sending and one receiving WebSocket client per room (one separate load process), 100-character
messages, ${SECONDS} s per rate after a ${WARMUP_SECONDS} s warm-up at 1,000 messages/s (the same for the bare hops). Latency is measured at the clients (the send time travels in the
text). Ours: gateway → Kafka (acks=all) → messaging → Postgres → Kafka → gateway; "accepted → delivered" starts at the
gateway's \`sentAt\`. Socket.IO and Centrifugo keep nothing (memory broadcast, no Kafka, no Postgres): an in-memory floor.
"Two bare Kafka hops" is the floor of any design that sends a message through Kafka twice, as ours does, on this
machine: kafkajs producer → consumer that produces again → consumer, with our client settings (acks=all, idempotent,
the same fetch waits, no offset commit between fetches), 10 keys, in one load process, and no WebSocket, Postgres or service code.
Target: p99 ≤ 25 ms at 2,000 messages/s.

| messages/s | ${SYSTEMS.map((s) => LABELS[s]).join(' | ')} | ours, accepted → delivered | two bare Kafka hops |
|---|${SYSTEMS.map(() => '---|').join('')}---|---|
${RATES.map((rate) => `| ${rate.toLocaleString('en')} | ${SYSTEMS.map((s) => cell(s, rate)).join(' | ')} | ${acceptedCell(rate)} | ${figures(floor.get(rate))} |`).join('\n')}

![p99 latency by rate](benchmarks/latency-p99.png)

${
  steps.size === 0
    ? ''
    : `Ours step by step, from its services' own histograms over each rate (\`/metrics\` before and after; percentiles
interpolated within buckets as \`histogram_quantile\` does, so read them to a bucket's width: 1–5 ms apart below 25 ms).
The steps are not additive at p99, and overlap a little.

| step | ${[...steps.keys()].map((rate) => `${rate.toLocaleString('en')}/s p50 / p99 (ms)`).join(' | ')} |
|---|${[...steps.keys()].map(() => '---|').join('')}
${STEPS.map(({ step }, i) => `| ${step} | ${[...steps.values()].map((measured) => p50p99(measured[i]!)).join(' | ')} |`).join('\n')}

`
}CPU while each rate ran, from the first send to the last delivery (\`/proc\`): the share of the machine's
${CORES} cores in use by every process, the cores each part of the system used on average (a process with its
children: Postgres' backends count with it), and the servers' CPU time per message, every part of the system included.
The load generator runs on the same cores.

| system | messages/s | machine busy | servers' cores, by part | servers' CPU per message | load generator |
|---|---|---|---|---|---|
${results
  .filter((r) => r.cpu)
  .map((r) => {
    const cpu = r.cpu!;
    const parts = Object.entries(cpu.groups).map(([group, used]) => `${group} ${inCores(cpu, used)}`).join(', ');
    return `| ${LABELS[r.system]} | ${r.rate.toLocaleString('en')} | ${Math.round(cpu.machineBusy * 100)} % | ${parts} | ${serverMsPerMessage(cpu, r.rate).toFixed(3)} ms | ${inCores(cpu, cpu.generator)} cores |`;
  })
  .join('\n')}
`);
emitChart(
  'latency-p99',
  barChartSvg({
    title: 'p99 latency, client send → delivered',
    unit: 'ms',
    groups: RATES.map((rate) => `${rate.toLocaleString('en')} messages/s`),
    series: [
      ...SYSTEMS.map((s) => ({ name: LABELS[s], values: RATES.map((rate) => results.find((x) => x.system === s && x.rate === rate)?.p99 ?? NaN) })),
      { name: 'two bare Kafka hops', values: RATES.map((rate) => floor.get(rate)?.p99 ?? NaN) },
    ],
    target: { value: 25, label: 'target p99 ≤ 25 ms at 2,000/s' },
  }),
);
