// The nemesis: faults of every kind drawn from a seeded generator, overlapping, for as long as it is told, while the
// workload runs. The same seed gives the same schedule (what is hit, when, for how long); what the system does under
// it still varies with timing, which is the point of running it. Every fault is recorded in the history and healed
// before `run` returns.
import type { FaultStack, ServiceSlot } from './fault-stack';

export type FaultKind = 'kill' | 'pause' | 'postgres-restart' | 'latency' | 'partition' | 'broker-kill' | 'broker-pause' | 'broker-restart';
export const FAULT_KINDS: readonly FaultKind[] = ['kill', 'pause', 'postgres-restart', 'latency', 'partition', 'broker-kill', 'broker-pause', 'broker-restart'];

/** mulberry32: a small, fast, seeded generator; plenty for picking faults. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface NemesisOptions {
  seed: number;
  durationMs: number;
  kinds?: readonly FaultKind[];
  /** Faults active at once, at most. */
  maxConcurrent?: number;
  /** Between two fault starts: uniformly this range. */
  gapMs?: [number, number];
  /** A fault's length: uniformly this range (a pause of a service is sometimes past its Kafka session of 10 s). */
  lengthMs?: [number, number];
  /**
   * Every this long, a calm: the faults active then heal, and none starts for `calmMs`. The checker judges recovery
   * bounds (consumer lag back to 0) only after a heal followed by that long without a fault, which a run of faults
   * seconds apart never gives but its end; a long soak calms now and then so that they are judged along the way.
   */
  calmEveryMs?: number;
  calmMs?: number;
  log?: (line: string) => void;
}

export interface NemesisSummary {
  injected: Partial<Record<FaultKind, number>>;
  total: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runNemesis(stack: FaultStack, options: NemesisOptions): Promise<NemesisSummary> {
  const random = seededRandom(options.seed);
  const kinds = options.kinds ?? FAULT_KINDS;
  const maxConcurrent = options.maxConcurrent ?? 2;
  const [gapMin, gapMax] = options.gapMs ?? [1_500, 5_000];
  const [lengthMin, lengthMax] = options.lengthMs ?? [2_000, 14_000];
  const between = (min: number, max: number) => Math.round(min + random() * (max - min));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const log = options.log ?? (() => undefined);

  const summary: NemesisSummary = { injected: {}, total: 0 };
  // What a fault holds, so that two never take the same service, broker or Postgres at once.
  const busy = new Set<string>();
  const active = new Set<Promise<void>>();
  // A fault whose injection or heal failed (a service that would not start again): the run ends with it.
  const failures: Error[] = [];
  const end = Date.now() + options.durationMs;
  let nextCalm = options.calmEveryMs === undefined ? Infinity : Date.now() + options.calmEveryMs;
  let n = 0;

  while (Date.now() < end) {
    if (Date.now() >= nextCalm) {
      await Promise.all(active);
      const calmMs = Math.min(options.calmMs ?? 45_000, Math.max(0, end - Date.now()));
      log(`nemesis: calm for ${calmMs} ms`);
      await sleep(calmMs);
      nextCalm = Date.now() + options.calmEveryMs!;
      continue;
    }
    await sleep(between(gapMin, gapMax));
    if (failures.length > 0) break;
    if (active.size >= maxConcurrent || Date.now() >= end) continue;
    const kind = pick(kinds);
    const lengthMs = between(lengthMin, lengthMax);
    const plan = planFault(stack, kind, busy, pick);
    if (!plan) continue;
    const id = `${kind}-${++n}`;
    busy.add(plan.holds);
    summary.injected[kind] = (summary.injected[kind] ?? 0) + 1;
    summary.total++;
    log(`nemesis: ${id} on ${plan.target} for ${lengthMs} ms`);
    const fault = stack.inject(id, kind, plan.target);
    const running: Promise<void> = plan
      .apply(lengthMs)
      .catch((error: Error) => {
        failures.push(new Error(`${id} on ${plan.target}: ${error.message}`));
      })
      .finally(() => {
        fault.heal();
        busy.delete(plan.holds);
        active.delete(running);
      });
    active.add(running);
  }
  await Promise.all(active);
  if (failures.length > 0) throw new AggregateError(failures, `the nemesis could not heal ${failures.length} of its faults: ${failures.map((e) => e.message).join('; ')}`);
  return summary;
}

interface FaultPlan {
  target: string;
  /** What it takes for its length: no other fault takes the same. */
  holds: string;
  /** Injects, waits `lengthMs`, heals; resolves once healed. */
  apply(lengthMs: number): Promise<void>;
}

function planFault(stack: FaultStack, kind: FaultKind, busy: ReadonlySet<string>, pick: <T>(items: readonly T[]) => T): FaultPlan | undefined {
  const freeSlots = stack.slots.filter((slot) => !busy.has(slot.name) && slot.running);
  const brokersDown = [...busy].filter((held) => held.startsWith('broker-')).length;
  const freeBrokers = stack.infra.kafka.nodes.filter((node) => !busy.has(`broker-${node.id}`) && node.isRunning());
  const service = (apply: (slot: ServiceSlot, lengthMs: number) => Promise<void>): FaultPlan | undefined => {
    if (freeSlots.length === 0) return undefined;
    const slot = pick(freeSlots);
    return { target: slot.name, holds: slot.name, apply: (lengthMs) => apply(slot, lengthMs) };
  };
  // One broker out at a time: with RF 3 and min.insync.replicas 2, writes go on (two down is the deterministic set's).
  const broker = (apply: (node: (typeof stack.infra.kafka.nodes)[number], lengthMs: number) => Promise<void>): FaultPlan | undefined => {
    if (brokersDown > 0 || freeBrokers.length === 0) return undefined;
    const node = pick(freeBrokers);
    return { target: `broker-${node.id}`, holds: `broker-${node.id}`, apply: (lengthMs) => apply(node, lengthMs) };
  };
  switch (kind) {
    case 'kill':
      return service(async (slot, lengthMs) => {
        await slot.kill();
        await sleep(Math.min(lengthMs, 5_000));
        await slot.start();
      });
    case 'pause':
      return service(async (slot, lengthMs) => {
        slot.pause();
        await sleep(lengthMs);
        slot.resume();
      });
    case 'latency':
      return service(async (slot, lengthMs) => {
        for (const proxy of slot.proxies) proxy.latency({ ms: 150, jitterMs: 100 });
        await sleep(lengthMs);
        for (const proxy of slot.proxies) await proxy.heal();
      });
    case 'partition':
      return service(async (slot, lengthMs) => {
        for (const proxy of slot.kafka) proxy.blackhole();
        await sleep(lengthMs);
        for (const proxy of slot.kafka) await proxy.heal();
      });
    case 'postgres-restart':
      if (busy.has('postgres')) return undefined;
      return { target: 'postgres', holds: 'postgres', apply: (lengthMs) => stack.restartPostgres(Math.min(lengthMs, 5_000)) };
    case 'broker-kill':
      return broker(async (node, lengthMs) => {
        await node.kill();
        await sleep(Math.min(lengthMs, 6_000));
        await node.start();
        await stack.infra.kafka.waitReady();
      });
    case 'broker-pause':
      return broker(async (node, lengthMs) => {
        node.pause();
        await sleep(lengthMs);
        node.resume();
        await stack.infra.kafka.waitReady();
      });
    case 'broker-restart':
      return broker(async (node) => {
        await node.stop();
        await node.start();
        await stack.infra.kafka.waitReady();
      });
  }
}
