import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { get, type IncomingMessage } from 'node:http';
import { once } from 'node:events';
import { ApiClient, startTestStack, waitUntil, WsStream, type TestStack } from '@chat/testkit';

let stack: TestStack;

before(async () => {
  stack = await startTestStack({ env: { WS_MAX_BUFFERED_BYTES: '65536', SEND_RATE_PER_SECOND: '100000', SEND_BURST: '100000', WS_FRAME_RATE_PER_SECOND: '100000', WS_FRAME_BURST: '100000' } });
});
after(() => stack?.stop());

test('clients that stop reading are cut off (WebSocket 4008, SSE too_slow) while others get everything, and resume from the cursor', async () => {
  const gateway = stack.gateways[0]!.url;
  const sender = await ApiClient.login(gateway, 'flooder');
  const reader = await ApiClient.login(gateway, 'reader');
  const room = await sender.createRoom('flood');
  await reader.joinRoom(room.id);

  const fast = await WsStream.forUser(reader, { rooms: room.id });
  const slow = await WsStream.forUser(reader, { rooms: room.id });
  // Stop reading from the TCP socket: the gateway's buffer for this client can only grow.
  (slow.socket as unknown as { _socket: Socket })._socket.pause();
  // The same over SSE: a response nobody reads.
  const slowSse = await new Promise<IncomingMessage>((resolve) =>
    get(`${gateway}/sse?rooms=${room.id}`, { headers: { authorization: `Bearer ${reader.token}` } }, resolve),
  );
  assert.equal(slowSse.statusCode, 200);
  slowSse.pause();

  const out = await WsStream.forUser(sender, { rooms: room.id });
  const total = 3000;
  const text = 'x'.repeat(4000);
  for (let i = 1; i <= total; i++) out.send({ type: 'send', room: room.id, clientMsgId: `f${i}`, text });
  await fast.waitForMessages(total, 60_000);

  (slow.socket as unknown as { _socket: Socket })._socket.resume();
  await waitUntil(() => slow.closeCode !== undefined, 10_000, 'the slow client to be closed');
  assert.equal(slow.closeCode, 4008);
  const gotBeforeCut = slow.messages().length;

  let sseText = '';
  slowSse.setEncoding('utf8');
  slowSse.on('data', (chunk: string) => (sseText += chunk));
  slowSse.resume();
  await once(slowSse, 'end');
  const sseMessages = sseText.split('\n').filter((line) => line === 'event: message').length;
  assert.ok(sseMessages < total, `SSE cut off after ${sseMessages} of ${total}`);
  assert.match(sseText, /event: error\ndata: \{"type":"error","code":"too_slow"/);
  assert.ok(gotBeforeCut < total, `cut off after ${gotBeforeCut} of ${total}`);

  const resumed = await WsStream.forUser(reader, { rooms: room.id, cursor: slow.cursor });
  await resumed.waitForMessages(total - gotBeforeCut, 30_000);
  const seqs = [...slow.messages(), ...resumed.messages()].map((m) => m.seq);
  // After seqs 1 and 2, the sender's and the reader's joins.
  assert.deepEqual(seqs, Array.from({ length: total }, (_, i) => i + 3), 'every message exactly once across the cut');
  assert.equal(fast.closeCode, undefined, 'the fast reader was not affected');
  await Promise.all([fast.close(), resumed.close(), out.close()]);
});
