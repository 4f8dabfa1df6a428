// Failpoints in a real messaging process: `messaging.after-store=kill@1` kills it between storing its first batch and
// publishing it, and the next process delivers what the dead one stored, once, with the seq it stored.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient, startService, startTestStack, waitUntil, WsStream, type RunningService, type TestStack } from '@chat/testkit';

let stack: TestStack;
/** Started here rather than by the stack, which would not stop them: a point that did not fire leaves one running. */
const ownProcesses: RunningService[] = [];

before(async () => {
  stack = await startTestStack();
  // Messaging processes of this file's own: the stack's would share the partitions with them.
  assert.equal(await stack.messaging.stop(), 0);
});
after(async () => {
  await Promise.all(ownProcesses.map((service) => service.kill()));
  await stack?.stop();
});

test('killed after storing a batch and before publishing it, messaging loses nothing: the next process delivers it once, with its stored seq', async () => {
  const doomed = await startService('messaging', { ...stack.env, CHAT_FAILPOINTS: 'messaging.after-store=kill@1' });
  ownProcesses.push(doomed);
  const alice = await ApiClient.login(stack.gateways[0]!.url, 'fp_alice');
  const room = await alice.createRoom('failpoints');
  const stream = await WsStream.forUser(alice, { rooms: room.id });

  stream.send({ type: 'send', room: room.id, clientMsgId: 'killed-after-store', text: 'stored, then the writer died' });
  await stream.waitFor((frame) => frame.type === 'ack', 10_000, 'the ack');
  const { process: doomedProcess } = doomed;
  await waitUntil(() => doomedProcess.exitCode !== null || doomedProcess.signalCode !== null, 20_000, 'messaging to die');
  assert.deepEqual([doomedProcess.exitCode, doomedProcess.signalCode], [null, 'SIGKILL'], doomed.logs().slice(-3000));
  assert.match(doomed.logs(), /"failpoint":"messaging.after-store","action":"kill","hit":1,"msg":"failpoint fired"/);

  // In the window: the row is stored, and nothing was published.
  const stored = () =>
    stack.db.pool.query<{ seq: number; text: string }>("SELECT seq::int, text FROM messages WHERE room_id = $1 AND kind = 'message' ORDER BY seq", [room.id]).then((r) => r.rows);
  // The room's log starts with alice's join (an entry of its own): the message takes the next seq.
  const first = (await stored())[0]?.seq ?? 0;
  assert.ok(first > 1, 'the join came first');
  assert.deepEqual(await stored(), [{ seq: first, text: 'stored, then the writer died' }]);
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(stream.messages().length, 0, 'nothing delivered before a writer publishes it');

  stack.messaging = await stack.startMessaging();
  const [message] = await stream.waitForMessages(1, 30_000);
  assert.equal(message!.seq, first);
  assert.equal(message!.clientMsgId, 'killed-after-store');
  // The replay found the row stored: no second row, and no second delivery.
  stream.send({ type: 'send', room: room.id, clientMsgId: 'after', text: 'after the restart' });
  await waitUntil(() => stream.messages().some((m) => m.clientMsgId === 'after'), 15_000, 'the message sent after the restart');
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(stream.messages().map((m) => [m.seq, m.clientMsgId]), [[first, 'killed-after-store'], [first + 1, 'after']]);
  assert.deepEqual(await stored(), [
    { seq: first, text: 'stored, then the writer died' },
    { seq: first + 1, text: 'after the restart' },
  ]);
  await stream.close();
});

test('a failpoint name messaging does not have stops it at start, listing the ones it has', async () => {
  const starting = startService('messaging', { ...stack.env, CHAT_FAILPOINTS: 'messaging.after-stor=kill' });
  await assert.rejects(
    starting.then((service) => ownProcesses.push(service)),
    /exited with \d+ before it was ready[\s\S]*messaging has no failpoint \\?"messaging.after-stor\\?"; its failpoints are messaging.after-store, messaging.after-publish, messaging.room-locked/,
  );
});
