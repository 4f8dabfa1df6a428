// Open findings of the fault suite (docs/reliability.md, "Open findings"): fault runs that failed on a clean clone and
// are not fixed yet, kept runnable here (`npm run faults:findings`) and out of `npm test` until they are. Each passed in
// runs on a quiet machine and failed in the clean clone of 2026-12-07:
// - the failpoint windows: after messaging-1 was killed by `messaging.after-publish` while it held every partition,
//   the two replicas started next were not ready within 60 s (their first log line, "joined consumer group", came
//   about 60 s after the kill). A slot that is not ready now prints the brokers' rebalance lines (GroupCoordinator).
// (The broker kill, pause and rolling restart, which lost acknowledged sends, is back in deterministic.test.ts: kafkajs
// dropped a retried partition that moved to a broker that had answered, see producer-leader-move.test.ts.)
import { test } from 'node:test';
import { withFaultStack } from './scenarios';

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
