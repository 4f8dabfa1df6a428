import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import RequestQueue from 'kafkajs/src/network/requestQueue/index.js';
import './kafkajs-fixes';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** A broker connection's queue whose checks are counted and whose sends are recorded instead of written. */
function countedQueue(t: TestContext, maxInFlightRequests: number | null = 1) {
  const queue = new RequestQueue({ maxInFlightRequests, requestTimeout: 30_000, enforceRequestTimeout: true, clientId: 't', broker: 'b:9092', logger: quiet });
  const sent: unknown[] = [];
  let checks = 0;
  const check = queue.checkPendingRequests.bind(queue);
  queue.checkPendingRequests = () => {
    checks++;
    check();
  };
  queue.sendSocketRequest = (request) => void sent.push(request);
  t.after(() => queue.destroy()); // a failed assertion must not leave a timer running
  return { queue, sent, checks: () => checks };
}

test('a queue with nothing waiting arms no timer: kafkajs 2.2.4 re-checked it every millisecond for ever (#1751)', async (t) => {
  const { queue, checks } = countedQueue(t);
  queue.checkPendingRequests(); // what every fulfilled request does
  await sleep(200);
  assert.equal(checks(), 1);
  assert.equal(queue.throttleCheckTimeoutId, null);
});

test('a request queued under a broker throttle is sent when the throttle ends, and the checks then stop', async (t) => {
  const { queue, sent, checks } = countedQueue(t);
  queue.throttledUntil = Date.now() + 80;
  queue.pending.push('produce');
  queue.scheduleCheckPendingRequests();
  await sleep(40);
  assert.deepEqual(sent, []);
  await sleep(120);
  assert.deepEqual(sent, ['produce']);
  const after = checks();
  await sleep(100);
  assert.equal(checks(), after);
  assert.equal(queue.throttleCheckTimeoutId, null);
});

test('requests held by the in-flight limit are re-checked every 10 ms until they go out', async (t) => {
  const { queue, sent } = countedQueue(t, 1);
  queue.inflight.set(1, 'in flight');
  queue.pending.push('fetch');
  queue.scheduleCheckPendingRequests();
  await sleep(50);
  assert.deepEqual(sent, []);
  assert.notEqual(queue.throttleCheckTimeoutId, null); // still watching
  queue.inflight.clear();
  await sleep(50);
  assert.deepEqual(sent, ['fetch']);
});
