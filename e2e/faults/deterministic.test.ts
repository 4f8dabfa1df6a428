// The deterministic fault set (docs/reliability.md): each fault alone, at a moment the test picks, under the traffic
// of every kind of client, judged by the checker. One deployment for the file (three brokers, two gateways, two
// messaging replicas, presence), of its own so that its faults disturb no other test file; each test runs its own
// workload on rooms of its own, and ends with every fault healed and every stream caught up.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { FaultStack, type ServiceSlot } from './fault-stack';
import { Workload, type WorkloadResult } from './workload';

let stack: FaultStack;
before(async () => {
  stack = await FaultStack.start();
});
after(async () => {
  const stopping = performance.now();
  await stack?.stop();
  console.error(`the fault stack stopped in ${Math.round(performance.now() - stopping)} ms`);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `faults` between a few seconds of traffic before and after, then settles and judges. */
async function underTraffic(t: TestContext, name: string, faults: (workload: Workload) => Promise<void>): Promise<WorkloadResult> {
  const workload = new Workload(stack, { name });
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
    await stack.recover();
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
  const fault = stack.inject(`${point}=${action}@${hit}`, `failpoint-${action}`, slot.name);
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

test('each failpoint window: killed after the store, after the publish, before the ack; stopped before a delivery', async (t) => {
  const result = await underTraffic(t, 'failpoints', async () => {
    const [messaging0, messaging1] = [stack.slot('messaging-0'), stack.slot('messaging-1')];
    await failpoint(messaging0, 'messaging.after-store', 'kill', 5, { alone: messaging1 });
    await failpoint(messaging1, 'messaging.after-publish', 'kill', 5, { alone: messaging0 });
    await failpoint(stack.slot('gateway-0'), 'gateway.before-ack', 'kill', 10);
    // Its streams moved to gateway-0 while it restarted: gateway-0 drains (its clients reconnect, some to gateway-1)
    // and comes back, so that gateway-1 has streams to deliver to.
    await failpoint(stack.slot('gateway-1'), 'gateway.before-deliver', 'pause', 40, {
      meanwhile: async () => {
        const other = stack.slot('gateway-0');
        const drain = stack.inject('drain-gateway-0', 'drain', 'gateway-0');
        await other.stop();
        await other.start();
        drain.heal();
      },
    });
  });
  assertClean(result, 5);
});

test('a Postgres crash (stop -m immediate) and restart under two gateways, two messaging replicas and presence', async (t) => {
  const result = await underTraffic(t, 'postgres', async () => {
    const fault = stack.inject('postgres-crash', 'crash', 'postgres');
    await stack.restartPostgres(3_000);
    fault.heal();
  });
  assertClean(result, 1);
});

test('two of three brokers down for longer than the producers retry: writes stop, nothing acknowledged is lost, and everything resumes', async (t) => {
  const result = await underTraffic(t, 'outage', async () => {
    const [, two, three] = stack.infra.kafka.nodes;
    const fault = stack.inject('brokers-2-3-down', 'kill', 'brokers 2 and 3');
    await Promise.all([two!.kill(), three!.kill()]);
    // kafkajs gives a request up once its reconnect retrier is spent: about 16 s against an unreachable broker.
    await sleep(20_000);
    await Promise.all([two!.start(), three!.start()]);
    await stack.infra.kafka.waitReady();
    fault.heal();
  });
  assertClean(result, 1);
});

test('a zombie messaging replica: paused past its session timeout while the other takes its partitions, then resumed', async (t) => {
  const result = await underTraffic(t, 'zombie', async () => {
    const zombie = stack.slot('messaging-0');
    const fault = stack.inject('zombie-messaging-0', 'pause', 'messaging-0');
    zombie.pause();
    // Its Kafka session is 10 s: the group evicts it, and the other replica takes its partitions.
    await sleep(14_000);
    zombie.resume();
    fault.heal();
  });
  assertClean(result, 1);
});

test('a frozen gateway (SIGSTOP for 8 s): its clients move to the other one and resume from their cursors', async (t) => {
  const result = await underTraffic(t, 'frozen', async () => {
    const gateway = stack.slot('gateway-1');
    const fault = stack.inject('freeze-gateway-1', 'pause', 'gateway-1');
    gateway.pause();
    await sleep(8_000);
    gateway.resume();
    fault.heal();
  });
  assertClean(result, 1);
});

test('a network partition between one gateway and every broker (blackholed for 12 s), healed', async (t) => {
  const result = await underTraffic(t, 'partition', async () => {
    const gateway = stack.slot('gateway-0');
    const fault = stack.inject('partition-gateway-0-kafka', 'partition', 'gateway-0 ↔ kafka');
    for (const proxy of gateway.kafka) proxy.blackhole();
    await sleep(12_000);
    for (const proxy of gateway.kafka) await proxy.heal();
    fault.heal();
  });
  assertClean(result, 1);
});

test('a broker killed, another paused past its session, then every broker restarted in turn (RF 3, two in sync)', async (t) => {
  const result = await underTraffic(t, 'brokers', async () => {
    const [one, two] = stack.infra.kafka.nodes;
    let fault = stack.inject('kill-broker-1', 'kill', 'broker-1');
    await one!.kill();
    await sleep(3_000);
    await one!.start();
    await stack.infra.kafka.waitReady();
    fault.heal();
    await sleep(2_000);

    fault = stack.inject('pause-broker-2', 'pause', 'broker-2');
    two!.pause();
    // Past the broker session of 9 s: the controller fences it, and its partitions' leadership moves.
    await sleep(10_000);
    two!.resume();
    await stack.infra.kafka.waitReady();
    fault.heal();
    await sleep(2_000);

    for (const node of stack.infra.kafka.nodes) {
      fault = stack.inject(`restart-broker-${node.id}`, 'restart', `broker-${node.id}`);
      await node.stop();
      await node.start();
      await stack.infra.kafka.waitReady();
      fault.heal();
      await sleep(2_000);
    }
  });
  assertClean(result, 5);
});
