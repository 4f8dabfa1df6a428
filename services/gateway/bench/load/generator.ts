/**
 * The load generator: a process of its own (never the server's), driven over
 * IPC by a benchmark. It holds idle connections, measures fan-out and latency
 * at the clients, and exits by itself when its parent goes or its time is up.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { deliveriesIn, messagesIn, publisher, subscribe, type Subscriber, type Target } from './connectors';
import { openPoll, openSse, type HeldStream } from './http-streams';
import { kafkaFloor, type FloorJob } from './kafka-floor';

export type Transport = 'websocket' | 'sse' | 'poll';

export type Job =
  | { op: 'idle'; target: Target; transport: Transport; room: string; count: number; addresses: string[] }
  | { op: 'release' }
  | { op: 'fanout'; target: Target; room: string; receivers: number; messages: number; warmupMessages: number; rate: number; addresses: string[]; serverPid: number }
  | { op: 'latency'; target: Target; rooms: string[]; rate: number; seconds: number; addresses: string[]; cpuOf?: CpuGroups }
  | ({ op: 'kafka-floor' } & FloorJob);

export interface FanoutResult {
  deliveries: number;
  expected: number;
  seconds: number;
  perSecond: number;
  /** CPU time the server process used from the first send to the end. */
  serverCpuSeconds: number;
  /** Share of the machine's CPU time that was busy meanwhile (all processes, all cores). */
  machineBusy: number;
}

export interface LatencyResult {
  sent: number;
  delivered: number;
  p50: number;
  p99: number;
  max: number;
  /** Ours: from the gateway accepting the send (the message's sentAt) to delivery. */
  accepted?: { p50: number; p99: number };
  /** Where the machine's CPU went while the messages were sent and delivered. */
  cpu?: CpuUse;
}

/** Named groups of processes to account CPU to; each process counts with its children (Postgres' backends). */
export type CpuGroups = Record<string, number[]>;

export interface CpuUse {
  /** How long it was measured. */
  seconds: number;
  /** Share of all cores busy, every process included. */
  machineBusy: number;
  /** CPU seconds used by each group, and by this load generator. */
  groups: Record<string, number>;
  generator: number;
}

const MAX_LIFETIME_MS = Number(process.env.BENCH_LOAD_MAX_MS ?? 15 * 60_000);
const OPEN_CONCURRENCY = 200;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const held: Array<{ close(): void }> = [];

/** Runs `open(i)` for i < count with at most OPEN_CONCURRENCY waiting to be ready. */
async function openMany(count: number, open: (i: number) => { ready: Promise<void> }): Promise<number> {
  let next = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: Math.min(OPEN_CONCURRENCY, count) }, async () => {
      while (next < count) {
        await open(next++).ready.catch(() => failed++);
      }
    }),
  );
  return failed;
}

async function idle(job: Extract<Job, { op: 'idle' }>): Promise<{ opened: number; failed: number }> {
  const failed = await openMany(job.count, (i) => {
    const address = job.addresses[i % job.addresses.length]!;
    let stream: HeldStream | Subscriber;
    if (job.transport === 'sse') stream = openSse(job.target, job.room, address);
    else if (job.transport === 'poll') stream = openPoll(job.target, job.room, address);
    else {
      const subscriber = subscribe(job.target, job.room, address);
      stream = subscriber;
      held.push({ close: () => subscriber.socket.terminate() });
      return stream;
    }
    held.push(stream);
    return stream;
  });
  return { opened: job.count - failed, failed };
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Sends `total` messages at `rate` per second in 10 ms ticks, round-robin over the publishers' rooms. */
async function paced(total: number, rate: number, send: (n: number) => void): Promise<void> {
  const started = performance.now();
  for (let n = 0; n < total; ) {
    const wait = started + (n / rate) * 1000 - performance.now();
    if (wait > 0) await sleep(wait);
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
    for (; n < due; n++) send(n);
  }
}

async function fanout(job: Extract<Job, { op: 'fanout' }>): Promise<FanoutResult> {
  let deliveries = 0;
  let lastDelivery = 0;
  const receivers: Subscriber[] = [];
  const failed = await openMany(job.receivers, (i) => {
    const receiver = subscribe(job.target, job.room, job.addresses[i % job.addresses.length]!, (frame) => {
      deliveries += deliveriesIn(job.target.system, frame);
      lastDelivery = performance.now();
    });
    receivers.push(receiver);
    return receiver;
  });
  if (failed > 0) throw new Error(`${failed} of ${job.receivers} receivers could not subscribe`);
  const sender = publisher(job.target, job.addresses[0]!);
  await sender.ready;
  const text = 'fan-out benchmark message '.padEnd(100, '.');
  /** Sends `messages` at the job's rate; resolves when every delivery arrived, or when none has arrived for 5 s. */
  const round = async (messages: number) => {
    const started = performance.now();
    await paced(messages, job.rate, () => sender.publish(job.room, text));
    while (deliveries < messages * job.receivers && performance.now() - Math.max(lastDelivery, started) < 5_000) await sleep(20);
    return started;
  };
  // A warm-up at the same rate, not counted, so that the JIT compilers (and, for ours, the broker's) run warm, as a
  // deployed server does.
  await round(job.warmupMessages);
  deliveries = 0;
  lastDelivery = 0;
  const expected = job.messages * job.receivers;
  const cpuUntilNow = cpuMeter({ server: [job.serverPid] });
  const started = await round(job.messages);
  const cpu = cpuUntilNow();
  const seconds = (lastDelivery - started) / 1000;
  sender.close();
  for (const receiver of receivers) receiver.socket.terminate();
  return {
    deliveries,
    expected,
    seconds,
    perSecond: Math.round(deliveries / seconds),
    serverCpuSeconds: cpu.groups.server!,
    machineBusy: cpu.machineBusy,
  };
}

/** Linux counts CPU time in USER_HZ ticks, 100 a second on every architecture it runs on. */
const TICKS_PER_SECOND = 100;

/** A process's parent and its user plus system CPU time (`/proc/<pid>/stat`, fields 4, 14 and 15), every thread included. */
function processStat(pid: number): { parent: number; cpuSeconds: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { parent: Number(fields[1]), cpuSeconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND };
}

/** CPU seconds so far of every process in each group, children included, by pid. */
function groupCpuSeconds(groups: CpuGroups): Map<string, Map<number, number>> {
  const snapshot = new Map(Object.keys(groups).map((name) => [name, new Map<number, number>()]));
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    let stat;
    try {
      stat = processStat(pid);
    } catch {
      continue; // It exited meanwhile.
    }
    for (const [name, roots] of Object.entries(groups)) {
      if (roots.includes(pid) || roots.includes(stat.parent)) snapshot.get(name)!.set(pid, stat.cpuSeconds);
    }
  }
  return snapshot;
}

/** Measures CPU from now until the returned function is called. */
function cpuMeter(groups: CpuGroups): () => CpuUse {
  const [groupsBefore, machineBefore, ownBefore, started] = [groupCpuSeconds(groups), machineTimes(), process.cpuUsage(), performance.now()];
  return () => {
    const [groupsAfter, machineAfter, own] = [groupCpuSeconds(groups), machineTimes(), process.cpuUsage(ownBefore)];
    const used = (name: string) =>
      [...groupsAfter.get(name)!].reduce((sum, [pid, after]) => sum + after - (groupsBefore.get(name)!.get(pid) ?? 0), 0);
    return {
      seconds: (performance.now() - started) / 1000,
      machineBusy: (machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total),
      groups: Object.fromEntries(Object.keys(groups).map((name) => [name, used(name)])),
      generator: (own.user + own.system) / 1e6,
    };
  };
}

/** The machine's busy and total CPU ticks since boot, over all cores (`/proc/stat`). */
function machineTimes(): { busy: number; total: number } {
  const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = user! + nice! + system! + idle! + iowait! + irq! + softirq! + steal!;
  return { busy: total - idle! - iowait!, total };
}

async function latency(job: Extract<Job, { op: 'latency' }>): Promise<LatencyResult> {
  const latencies: number[] = [];
  const sinceAccepted: number[] = [];
  const system = job.target.system;
  const receivers = job.rooms.map((room, i) =>
    subscribe(job.target, room, job.addresses[i % job.addresses.length]!, (frame) => {
      const now = performance.now();
      for (const { text, sentAt } of messagesIn(system, frame)) {
        latencies.push(now - Number(text.slice(1, text.indexOf(' '))));
        if (sentAt) sinceAccepted.push(Date.now() - Date.parse(sentAt));
      }
    }),
  );
  await Promise.all(receivers.map((receiver) => receiver.ready));
  const publishers = job.rooms.map((_, i) => publisher(job.target, job.addresses[i % job.addresses.length]!));
  await Promise.all(publishers.map((p) => p.ready));
  const total = job.rate * job.seconds;
  const cpuUntilNow = job.cpuOf && cpuMeter(job.cpuOf);
  await paced(total, job.rate, (n) => {
    const room = n % job.rooms.length;
    publishers[room]!.publish(job.rooms[room]!, `t${performance.now().toFixed(2)} `.padEnd(100, '.'));
  });
  const deadline = performance.now() + 15_000;
  while (latencies.length < total && performance.now() < deadline) await sleep(20);
  const cpu = cpuUntilNow?.();
  for (const p of publishers) p.close();
  for (const receiver of receivers) receiver.socket.terminate();
  const accepted = sinceAccepted.sort((a, b) => a - b);
  return {
    ...summary(latencies, total),
    accepted: system === 'ours' ? { p50: percentile(accepted, 50), p99: percentile(accepted, 99) } : undefined,
    cpu,
  };
}

function summary(latencies: number[], sent: number): LatencyResult {
  const sorted = latencies.sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return {
    sent,
    delivered: latencies.length,
    p50: round(percentile(sorted, 50)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? NaN),
  };
}

async function run(job: Job): Promise<unknown> {
  switch (job.op) {
    case 'idle':
      return idle(job);
    case 'release':
      for (const stream of held.splice(0)) stream.close();
      return {};
    case 'fanout':
      return fanout(job);
    case 'latency':
      return latency(job);
    case 'kafka-floor':
      return summary(await kafkaFloor(job, paced), job.rate * job.seconds);
  }
}

process.on('message', (job: Job) => {
  run(job).then(
    (result) => process.send!({ ok: true, result }),
    (error: Error) => process.send!({ ok: false, error: error.stack ?? String(error) }),
  );
});
process.on('disconnect', () => process.exit(0));
setTimeout(() => process.exit(0), MAX_LIFETIME_MS).unref();
process.send!({ ok: true, result: 'started' });
