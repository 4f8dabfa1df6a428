// The deterministic fault set (docs/reliability.md): each failpoint window, and each fault alone, at a moment the test
// picks, under the traffic of every kind of client, judged by the checker. One deployment for the file (three brokers,
// two gateways, two messaging replicas, presence), of its own so that its faults disturb no other test file; each test
// runs its own workload on rooms of its own, and ends with every fault healed and every stream caught up.
import { test } from 'node:test';
import { sleep, withFaultStack } from './scenarios';

const { stack, underTraffic, assertClean, failpoint } = withFaultStack();

test('each failpoint window: killed after the store, after the publish, before the ack; stopped before a delivery', async (t) => {
  const result = await underTraffic(t, 'failpoints', async () => {
    const [messaging0, messaging1] = [stack().slot('messaging-0'), stack().slot('messaging-1')];
    await failpoint(messaging0, 'messaging.after-store', 'kill', 5, { alone: messaging1 });
    await failpoint(messaging1, 'messaging.after-publish', 'kill', 5, { alone: messaging0 });
    await failpoint(stack().slot('gateway-0'), 'gateway.before-ack', 'kill', 10);
    // Its streams moved to gateway-0 while it restarted: gateway-0 drains (its clients reconnect, some to gateway-1)
    // and comes back, so that gateway-1 has streams to deliver to.
    await failpoint(stack().slot('gateway-1'), 'gateway.before-deliver', 'pause', 40, {
      meanwhile: async () => {
        const other = stack().slot('gateway-0');
        const drain = stack().inject('drain-gateway-0', 'drain', 'gateway-0');
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
    const fault = stack().inject('postgres-crash', 'crash', 'postgres');
    await stack().restartPostgres(3_000);
    fault.heal();
  });
  assertClean(result, 1);
});

test('two of three brokers down for longer than the producers retry: writes stop, nothing acknowledged is lost, and everything resumes', async (t) => {
  const result = await underTraffic(t, 'outage', async () => {
    const [, two, three] = stack().infra.kafka.nodes;
    const fault = stack().inject('brokers-2-3-down', 'kill', 'brokers 2 and 3');
    await Promise.all([two!.kill(), three!.kill()]);
    // kafkajs gives a request up once its reconnect retrier is spent: about 16 s against an unreachable broker.
    await sleep(20_000);
    await Promise.all([two!.start(), three!.start()]);
    await stack().infra.kafka.waitReady();
    fault.heal();
  });
  assertClean(result, 1);
});

test('a zombie messaging replica: paused past its session timeout while the other takes its partitions, then resumed', async (t) => {
  const result = await underTraffic(t, 'zombie', async () => {
    const zombie = stack().slot('messaging-0');
    const fault = stack().inject('zombie-messaging-0', 'pause', 'messaging-0');
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
    const gateway = stack().slot('gateway-1');
    const fault = stack().inject('freeze-gateway-1', 'pause', 'gateway-1');
    gateway.pause();
    await sleep(8_000);
    gateway.resume();
    fault.heal();
  });
  assertClean(result, 1);
});

test('a network partition between one gateway and every broker (blackholed for 12 s), healed', async (t) => {
  const result = await underTraffic(t, 'partition', async () => {
    const gateway = stack().slot('gateway-0');
    const fault = stack().inject('partition-gateway-0-kafka', 'partition', 'gateway-0 ↔ kafka');
    for (const proxy of gateway.kafka) proxy.blackhole();
    await sleep(12_000);
    for (const proxy of gateway.kafka) await proxy.heal();
    fault.heal();
  });
  assertClean(result, 1);
});

test('a broker killed, another paused past its session, then a rolling update of every tier: each gateway (drained), messaging and presence replica, and broker in turn', async (t) => {
  const result = await underTraffic(t, 'brokers', async () => {
    const [one, two] = stack().infra.kafka.nodes;
    let fault = stack().inject('kill-broker-1', 'kill', 'broker-1');
    await one!.kill();
    await sleep(3_000);
    await one!.start();
    await stack().infra.kafka.waitReady();
    fault.heal();
    await sleep(2_000);

    fault = stack().inject('pause-broker-2', 'pause', 'broker-2');
    two!.pause();
    // Past the broker session of 9 s: the controller fences it, and its partitions' leadership moves.
    await sleep(10_000);
    two!.resume();
    await stack().infra.kafka.waitReady();
    fault.heal();
    await sleep(2_000);

    // As `kubectl rollout restart` does it, one pod at a time: SIGTERM (a gateway drains its clients, which reconnect
    // to the other), then the new one, ready before the next goes.
    for (const slot of stack().slots) {
      fault = stack().inject(`restart-${slot.name}`, 'restart', slot.name);
      await slot.stop();
      await slot.start();
      fault.heal();
      await sleep(1_000);
    }
    for (const node of stack().infra.kafka.nodes) {
      fault = stack().inject(`restart-broker-${node.id}`, 'restart', `broker-${node.id}`);
      await node.stop();
      await node.start();
      await stack().infra.kafka.waitReady();
      fault.heal();
      await sleep(2_000);
    }
  });
  assertClean(result, 5 + stack().slots.length);
});
