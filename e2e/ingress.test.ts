// Two gateways behind the local ingress (nginx), as `npm run start:cluster` runs
// them: a client survives the replica it was on being killed, and the per-IP
// stream cap counts the client addresses nginx forwards, not nginx's own.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import WebSocket from 'ws';
import type { MessageEvent } from '@chat/protocol';
import { ChatClient } from '@chat/client';
import { ApiClient, startIngress, startTestStack, waitUntil, type TestIngress, type TestStack } from '@chat/testkit';

const STREAMS_PER_IP = 2;
let stack: TestStack;
let ingress: TestIngress;

before(async () => {
  stack = await startTestStack({ gateways: 2, env: { MAX_STREAMS_PER_IP: String(STREAMS_PER_IP) } });
  ingress = await startIngress(stack.gateways);
});
after(async () => {
  await ingress?.stop();
  await stack?.stop();
});

/** Streams a replica holds, from its /metrics. */
async function openStreams(url: string): Promise<number> {
  const text = await fetch(`${url}/metrics`).then((response) => response.text(), () => '');
  return [...text.matchAll(/^chat_connections_open\{[^}]*\} (\d+)/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
}

test("nginx serves the web app, the API and the streams, and not the replicas' /metrics, /healthz or /readyz", async () => {
  for (const path of ['/metrics', '/healthz', '/readyz']) {
    assert.equal((await fetch(`${ingress.url}${path}`)).status, 404, `${path} through nginx`);
    assert.equal((await fetch(`${stack.gateways[0]!.url}${path}`)).status, 200, `${path} on the replica's own port`);
  }
  assert.equal((await fetch(`${ingress.url}/api/rooms`)).status, 401, 'the API answers (unauthenticated here)');
  assert.notEqual((await fetch(`${ingress.url}/`)).status, 404, 'the web app (503 until it is built)');
  const sse = await openSseFrom('127.0.0.50', (await ApiClient.login(ingress.url, 'ingress_paths')).token);
  assert.equal(sse.status, 200, 'a stream');
  sse.close();
});

test('a client keeps receiving every message once and in order through nginx after its gateway is SIGKILLed', async () => {
  const alice = await ApiClient.login(ingress.url, 'ingress_alice');
  const bob = await ApiClient.login(ingress.url, 'ingress_bob');
  const room = await alice.createRoom('failover');
  await bob.joinRoom(room.id);

  const client = new ChatClient({
    baseUrl: ingress.url,
    getToken: () => bob.token,
    rooms: [room.id],
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    openTimeoutMs: 2_000,
    backoff: { initialMs: 100, maxMs: 500 },
  });
  const received: MessageEvent[] = [];
  client.on('message', (message) => received.push(message));
  client.start();
  await waitUntil(() => client.status.state === 'open', 10_000, 'the SDK open through nginx');

  const send = async (text: string) => {
    const { status } = await alice.request('POST', `/api/rooms/${room.id}/messages`, { clientMsgId: text, text });
    assert.equal(status, 202, `send ${text}`);
  };
  for (let i = 1; i <= 5; i++) await send(`before-${i}`);
  await waitUntil(() => received.length >= 5, 10_000, 'the first five messages');

  const holding = await waitUntil(async () => {
    const counts = await Promise.all(stack.gateways.map((gateway) => openStreams(gateway.url)));
    const index = counts.findIndex((count) => count > 0);
    return index >= 0 ? stack.gateways[index] : undefined;
  }, 5_000, 'the replica holding the stream');
  await holding.kill();

  // Sends keep working through nginx while the client reconnects to the other replica. nginx does not retry a POST,
  // and one that went out on a kept-alive connection to the killed replica gets a 502: the sender retries it with the
  // same clientMsgId, as the SDK does, and the backend stores it once.
  const sendRetrying = (text: string) =>
    waitUntil(async () => {
      const { status } = await alice.request('POST', `/api/rooms/${room.id}/messages`, { clientMsgId: text, text }).catch(() => ({ status: 0 }));
      if (status !== 202 && status !== 502 && status !== 0) assert.fail(`send ${text}: ${status}`);
      return status === 202;
    }, 10_000, `send ${text} accepted`);
  for (let i = 1; i <= 5; i++) await sendRetrying(`after-${i}`);
  await waitUntil(() => received.length >= 10, 20_000, 'the messages sent after the kill');
  await new Promise((resolve) => setTimeout(resolve, 500));
  client.stop();

  const texts = received.map((message) => message.text);
  assert.deepEqual(texts, [1, 2, 3, 4, 5].map((i) => `before-${i}`).concat([1, 2, 3, 4, 5].map((i) => `after-${i}`)));
  assert.deepEqual(received.map((message) => message.seq), [3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 'after the joins, 1 and 2');
});

/** Opens an SSE stream through nginx from a local address of our choosing; resolves with its status. */
function openSseFrom(localAddress: string, token: string): Promise<{ status: number; close: () => void }> {
  const url = new URL('/sse', ingress.url);
  return new Promise((resolve, reject) => {
    const req = request(url, { localAddress, headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } }, (res) => {
      res.resume();
      resolve({ status: res.statusCode!, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

test('the per-IP stream cap counts each client address nginx forwards, not the address of nginx', async () => {
  // Loopback is 127.0.0.0/8: each client connects from an address of its own.
  const users = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => ApiClient.login(ingress.url, `ingress_ip_${i}`)));
  const distinct = await Promise.all(users.slice(0, 5).map((user, i) => openSseFrom(`127.0.0.${10 + i}`, user.token)));
  // Were every client counted as nginx's one address, no replica would take more than two of these.
  assert.deepEqual(distinct.map((stream) => stream.status), [200, 200, 200, 200, 200]);

  const same: Array<{ status: number; close: () => void }> = [];
  for (let i = 0; i < 2 * STREAMS_PER_IP + 1; i++) same.push(await openSseFrom('127.0.0.40', users[5]!.token));
  const statuses = same.map((stream) => stream.status);
  assert.ok(statuses.includes(429), `one address past the cap on both replicas is refused: ${statuses}`);
  for (const stream of [...distinct, ...same]) stream.close();
});
