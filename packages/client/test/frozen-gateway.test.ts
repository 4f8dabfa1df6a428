import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import type { Message, ServerFrame, TransportName } from '@chat/protocol';
import { ApiClient, startTestStack, waitUntil, type TestStack } from '@chat/testkit';
import { ChatClient } from '../src/index';

/** From the freeze to every client streaming from the other gateway (detection + backoff + maybe a frozen retry). */
const RECOVERY_BOUND_MS = 8_000;

let stack: TestStack;

before(async () => {
  // Heartbeats every 300 ms, so that a 1 s SSE read timeout is a little over three of them.
  stack = await startTestStack({ gateways: 2, env: { SSE_HEARTBEAT_MS: '300' } });
});
after(() => stack?.stop());

/** A client on one transport whose baseUrl goes round the gateways, as a balancer that knows nothing of health would. */
function recordingClient(user: ApiClient, room: string, transport: TransportName) {
  const urls = stack.gateways.map((gateway) => gateway.url);
  let picks = 0;
  /** The gateway of each stream opened. Sends over HTTP pick one too, but only while the stream is open. */
  const streamedFrom: string[] = [];
  const raw: ServerFrame[] = [];
  const client: ChatClient = new ChatClient({
    baseUrl: () => {
      const url = urls[picks++ % urls.length]!;
      if (client.status.state !== 'open') streamedFrom.push(url);
      return url;
    },
    getToken: () => user.token,
    transports: [transport],
    rooms: [room],
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    openTimeoutMs: 1_500,
    backoff: { initialMs: 50, maxMs: 200 },
    liveness: { pingIntervalMs: 300, pongTimeoutMs: 700, sseReadTimeoutMs: 1_000, pollTimeoutSeconds: 2, pollGraceMs: 1_000, requestTimeoutMs: 1_500, ackTimeoutMs: 2_000 },
    onRawFrame: (frame) => raw.push(frame),
  });
  const messages: Message[] = [];
  client.on('message', (message) => messages.push(message));
  return {
    transport,
    client,
    streamedFrom,
    texts: () => messages.map((message) => message.text),
    /** What the wire carried, before the SDK's own dedupe. */
    rawSeqs: () => raw.flatMap((frame) => (frame.type === 'message' ? [frame.seq] : [])),
  };
}

test('a frozen gateway (SIGSTOP) is left on every transport, within a bound, and what was sent meanwhile arrives exactly once', async () => {
  const [frozen, other] = stack.gateways as [TestStack['gateways'][0], TestStack['gateways'][0]];
  const users = await Promise.all(['frozen_ws', 'frozen_sse', 'frozen_poll'].map((name) => ApiClient.login(other.url, name)));
  const room = await users[0]!.createRoom('frozen');
  await Promise.all(users.slice(1).map((user) => user.joinRoom(room.id)));
  const clients = (['websocket', 'sse', 'poll'] as const).map((transport, i) => recordingClient(users[i]!, room.id, transport));
  const [ws, sse] = clients as [ReturnType<typeof recordingClient>, ReturnType<typeof recordingClient>];
  const onGateway = (c: (typeof clients)[number], url: string) => c.client.status.state === 'open' && c.streamedFrom.at(-1) === url;
  try {
    for (const c of clients) c.client.start();
    await waitUntil(() => clients.every((c) => onGateway(c, frozen.url)), 15_000, 'every client open on the first gateway');
    await ws.client.send(room.id, 'before', 'before-1');
    await waitUntil(() => clients.every((c) => c.texts().length === 1), 10_000, 'the first message on every transport');

    assert.ok(frozen.process.kill('SIGSTOP'));
    const frozenAt = Date.now();
    // Over the frozen WebSocket (acked only after the reconnect), and over HTTP beside the SSE stream.
    const sent = [ws.client.send(room.id, 'during ws', 'during-ws'), sse.client.send(room.id, 'during http', 'during-http')];
    const recoveredMs = new Map<TransportName, number>();
    const allRecovered = () => {
      for (const c of clients) if (!recoveredMs.has(c.transport) && onGateway(c, other.url)) recoveredMs.set(c.transport, Date.now() - frozenAt);
      return recoveredMs.size === clients.length;
    };
    await waitUntil(allRecovered, RECOVERY_BOUND_MS, 'every client open on the other gateway');
    await Promise.all(sent);
    await waitUntil(() => clients.every((c) => c.texts().length >= 3), 10_000, 'the messages sent meanwhile on every transport');
    const times = [...recoveredMs].map(([transport, ms]) => `${transport} ${ms} ms`).join(', ');
    console.warn(`frozen gateway left after ${times} (bound ${RECOVERY_BOUND_MS} ms); both sends delivered on every transport ${Date.now() - frozenAt} ms after the freeze`);

    // Thawed, the first gateway finds the frames and requests it was given while frozen: they must not make a second message.
    frozen.process.kill('SIGCONT');
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const history = await users[0]!.request<{ messages: Message[] }>('GET', `/api/rooms/${room.id}/messages`);
    // The room's log also holds its members' joins (entries without text): the messages are the rest.
    const messages = history.body.messages.filter((m) => (m as { type?: string }).type === 'message');
    assert.equal(messages.length, 3, JSON.stringify(history.body.messages));
    assert.deepEqual(messages.map((m) => m.text).sort(), ['before', 'during http', 'during ws']);
    const stored = messages.map((m) => m.text);
    const storedSeqs = messages.map((m) => m.seq);
    for (const c of clients) {
      assert.deepEqual(c.rawSeqs(), storedSeqs, `${c.transport}: every message once, in order, on the wire`);
      assert.deepEqual(c.texts(), stored, `${c.transport}: as stored`);
    }
  } finally {
    frozen.process.kill('SIGCONT');
    for (const c of clients) c.client.stop();
  }
});
