// The shape of a fault test: a workload on rooms of its own, the faults between a few seconds of traffic before and
// after, the settle and the verdict; and a service restarted with a failpoint armed. The deterministic set's, kept apart
// so that a run of a new finding (a file of its own, out of `npm test` until it is fixed) can use them too.
import assert from 'node:assert/strict';
import { after, before, type TestContext } from 'node:test';
import { FaultStack, type ServiceSlot } from './fault-stack';
import { Workload, type WorkloadResult } from './workload';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The helpers bound to the file's stack (started in its `before`). */
export function scenarios(stack: () => FaultStack) {
  /** Runs `faults` between a few seconds of traffic before and after, then settles and judges. */
  async function underTraffic(t: TestContext, name: string, faults: (workload: Workload) => Promise<void>): Promise<WorkloadResult> {
    const workload = new Workload(stack(), { name });
    try {
      await workload.start();
      workload.startSending();
      await workload.run(2_500);
      await faults(workload);
      await workload.run(2_500);
      await workload.stopSending();
      await workload.settle(60_000);
      const result = await workload.finish();
      const acked = result.results.filter((outcome) => outcome === 'ack').length;
      t.diagnostic(
        `${name}: ${result.results.length} sends, ${acked} acked, ${result.report.counts.deliveries} deliveries checked, ` +
          `${result.report.counts.faultsInjected} faults, longest heal ${result.report.longestHealMs ?? 0} ms`,
      );
      return result;
    } finally {
      await workload.abort();
      await stack().recover();
    }
  }

  /** Every send ended acknowledged (each was retried through its fault), and the checker found nothing. */
  function assertClean({ report, text, results, unacked }: WorkloadResult, faults: number): void {
    assert.deepEqual(report.anomalyCounts, {}, text);
    assert.equal(report.counts.faultsInjected, faults, text);
    assert.ok(report.counts.acked > 0 && report.counts.deliveries > 0, text);
    assert.deepEqual(
      results.filter((outcome) => outcome !== 'ack'),
      [],
      `every send ends acknowledged (${JSON.stringify(unacked)}):\n${text}`,
    );
  }

  /**
   * A service restarted with a failpoint armed; once it fires (the process kills or stops itself), it starts clean.
   * `meanwhile` runs once it is up with the point armed (to send it traffic); `alone` is stopped meanwhile (the other
   * messaging replica: so that every partition, and every room, is the armed one's), and started again at the end.
   */
  async function failpoint(
    slot: ServiceSlot,
    point: string,
    action: 'kill' | 'pause',
    hit: number,
    { meanwhile, alone }: { meanwhile?: () => Promise<void>; alone?: ServiceSlot } = {},
  ): Promise<void> {
    const fault = stack().inject(`${point}=${action}@${hit}`, `failpoint-${action}`, slot.name);
    await alone?.stop();
    await slot.stop();
    await slot.start({ CHAT_FAILPOINTS: `${point}=${action}@${hit}` }, { expectExit: action === 'kill' });
    await meanwhile?.();
    const fired = () => slot.logs().includes('failpoint fired');
    const deadline = Date.now() + 30_000;
    while (!fired()) {
      if (Date.now() > deadline) throw new Error(`${point} did not fire within 30 s in ${slot.name}:\n${slot.logs().slice(-3000)}`);
      await sleep(20);
    }
    if (action === 'kill') {
      await slot.exited(10_000);
    } else {
      // Stopped at the point for a while, as a replica that froze there would be.
      await sleep(6_000);
      slot.resume();
      await slot.stop();
    }
    await Promise.all([slot.start(), alone?.start()]);
    fault.heal();
    await sleep(1_500);
  }

  return { underTraffic, assertClean, failpoint };
}

/**
 * A test file's own deployment, started before its tests and stopped after them, and the helpers bound to it.
 * `stack()` is the running stack (inside a test).
 */
export function withFaultStack() {
  let current: FaultStack | undefined;
  before(async () => {
    current = await FaultStack.start();
  });
  after(async () => {
    const stopping = performance.now();
    await current?.stop();
    console.error(`the fault stack stopped in ${Math.round(performance.now() - stopping)} ms`);
  });
  const stack = () => {
    if (!current) throw new Error('the fault stack is not started');
    return current;
  };
  return { stack, ...scenarios(stack) };
}
