// Readiness says whether a gateway can serve, not whether its Kafka feed is up this second: a feed that keeps crashing
// and rejoining (every live delivery throws) leaves /readyz at 200, with the feed's state in its body, and REST served.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient, startService, startTestStack, WsStream, type RunningService, type TestStack } from '@chat/testkit';

let stack: TestStack;
let flaky: RunningService;

before(async () => {
  stack = await startTestStack({ gateways: 1 });
  flaky = await startService('gateway', {
    ...stack.env,
    INSTANCE_ID: `${stack.topics.prefix}flaky`,
    CHAT_FAILPOINTS: 'gateway.before-deliver=throw@1+',
  });
});
after(async () => {
  await flaky?.kill();
  await stack?.stop();
});

test('a gateway whose event feed keeps crashing stays ready for REST and says the feed is degraded', async () => {
  const alice = await ApiClient.login(flaky.url, 'readiness_alice');
  const room = (await alice.createRoom('readiness')).id;
  const stream = await WsStream.forUser(alice, { rooms: room });
  // Each live delivery throws, so the feed's batch fails through its retries and kafkajs restarts the consumer.
  assert.equal((await alice.request('POST', `/api/rooms/${room}/messages`, { clientMsgId: 'm1', text: 'hello' })).status, 202);

  const seen = new Map<string, number>();
  const deadline = performance.now() + 25_000;
  let degraded = false;
  while (performance.now() < deadline && !degraded) {
    const response = await fetch(`${flaky.url}/readyz`);
    const body = (await response.json()) as { status: string; checks?: Record<string, unknown> };
    const key = `${response.status} ${body.status}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
    if (response.status !== 200) break;
    degraded = body.status === 'degraded' && body.checks?.events !== 'ok';
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.deepEqual([...seen.keys()].filter((key) => !key.startsWith('200 ')), [], `readiness answers: ${JSON.stringify([...seen])}`);
  assert.ok(degraded, `the feed's crash shows in the body: ${JSON.stringify([...seen])}`);
  assert.equal((await alice.request('GET', '/api/rooms')).status, 200, 'REST is served meanwhile');
  await stream.close();
});
