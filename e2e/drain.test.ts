import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { ChatClient, type TransportName } from '@chat/client';
import type { MessageEvent } from '@chat/protocol';
import { ApiClient, startTestStack, waitUntil, type TestStack } from '@chat/testkit';

let stack: TestStack;

before(async () => {
  // The readers leave at random within the window, and the gateway closes once they are gone: a window long enough
  // that the not-ready checks below still find it listening.
  stack = await startTestStack({ gateways: 2, env: { DRAIN_WINDOW_MS: '4000', SEND_RATE_PER_SECOND: '1000', SEND_BURST: '1000', WS_FRAME_RATE_PER_SECOND: '1000', WS_FRAME_BURST: '1000' } });
});
after(() => stack?.stop());

test('SIGTERM drains a gateway: not ready, no new streams, clients of every transport resume on the other with no loss', async () => {
  const [draining, staying] = stack.gateways as [(typeof stack.gateways)[0], (typeof stack.gateways)[0]];
  const sender = await ApiClient.login(staying.url, 'drain_sender');
  const room = await sender.createRoom('drain');

  // A balancer that stops routing to a pod once it is draining.
  let drainingStarted = false;
  const pick = () => (drainingStarted ? staying.url : draining.url);
  const readers = await Promise.all(
    (['websocket', 'sse', 'poll'] as TransportName[]).map(async (transport) => {
      const user = await ApiClient.login(staying.url, `drain_${transport}`);
      await user.joinRoom(room.id);
      const client = new ChatClient({
        baseUrl: pick,
        getToken: () => user.token,
        transports: [transport],
        rooms: [room.id],
        WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
        backoff: { initialMs: 100, maxMs: 500 },
      });
      const messages: MessageEvent[] = [];
      client.on('message', (message) => messages.push(message));
      client.start();
      await waitUntil(() => client.status.state === 'open', 10_000, `${transport} open`);
      return { transport, client, messages };
    }),
  );

  const total = 40;
  let sent = 0;
  const sending = (async () => {
    for (sent = 1; sent <= total; sent++) {
      const result = await sender.request('POST', `/api/rooms/${room.id}/messages`, { clientMsgId: `d${sent}`, text: `d${sent}` });
      assert.equal(result.status, 202);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  await waitUntil(() => sent > 10, 10_000, 'traffic before the drain');

  drainingStarted = true;
  const exited = draining.stop();
  await waitUntil(
    async () => (await fetch(`${draining.url}/readyz`).then((r) => r.status, () => 0)) === 503,
    10_000,
    'readiness to turn false',
  );
  const refused = await fetch(`${draining.url}/poll?rooms=${room.id}&timeout=1`, { headers: { authorization: `Bearer ${sender.token}` } });
  assert.equal(refused.status, 503, 'no new streams while draining');

  assert.equal(await exited, 0, 'the drained gateway exits cleanly');
  await sending;

  for (const { transport, client, messages } of readers) {
    await waitUntil(() => messages.length >= total, 15_000, `${transport}: every message`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // After seqs 1 to 4, the sender's and the readers' joins.
    assert.deepEqual(messages.map((m) => m.seq), Array.from({ length: total }, (_, i) => i + 5), `${transport}: each once, in order`);
    client.stop();
  }
});
