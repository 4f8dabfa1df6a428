// A gateway whose event feed crashes in a way kafkajs does not restart (a bug in the handler) drains like on SIGTERM:
// its streams are told to reconnect elsewhere, then it exits 70 for its supervisor to restart it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { ApiClient, startService, startTestStack, waitUntil, WsStream, type RunningService, type TestStack } from '@chat/testkit';

let stack: TestStack;
let crashing: RunningService;

before(async () => {
  stack = await startTestStack({ gateways: 1 });
  // The first live delivery throws a TypeError out of the feed's batch handler: a crash kafkajs gives up on.
  crashing = await startService('gateway', {
    ...stack.env,
    INSTANCE_ID: `${stack.topics.prefix}crashing`,
    CHAT_FAILPOINTS: 'gateway.before-deliver=bug',
    DRAIN_WINDOW_MS: '1000',
  });
});
after(async () => {
  await crashing?.kill();
  await stack?.stop();
});

test('an event feed crash kafkajs does not restart drains the gateway (streams told to reconnect), then it exits 70', async () => {
  const [healthy] = stack.gateways as [RunningService];
  const alice = await ApiClient.login(healthy.url, 'feed_crash_alice');
  const room = (await alice.createRoom('feed crash')).id;
  const streams = await Promise.all([1, 2, 3].map(() => WsStream.open(crashing.url, { rooms: room }, { authorization: `Bearer ${alice.token}` })));
  const exited = once(crashing.process, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;

  assert.equal((await alice.request('POST', `/api/rooms/${room}/messages`, { clientMsgId: 'm1', text: 'hello' })).status, 202);
  const [code] = await Promise.race([exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no exit within 30 s')), 30_000))]);
  assert.equal(code, 70, `exit code; logs:\n${crashing.logs().slice(-3000)}`);
  await waitUntil(() => streams.every((stream) => stream.closeCode !== undefined), 5_000, 'every stream closed');
  assert.deepEqual(
    streams.map((stream) => stream.closeCode),
    [1012, 1012, 1012],
    'each stream was told to reconnect (1012 restart), not dropped',
  );
  assert.match(crashing.logs(), /consumer crashed and kafkajs does not restart it/);
});
