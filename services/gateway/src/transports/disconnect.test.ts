// Each entry of the disconnect catalog, sent by the gateway's own stream objects and read by the SDK, on each
// transport: the client does what the entry advises. A local server of one stream at a time; no Kafka, no Postgres.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { ChatClient, type TransportName } from '@chat/client';
import { DISCONNECT, type Disconnect, type Reconnect } from '@chat/protocol';
import { OutgoingEvent } from '../session/outgoing-event';
import { PendingPoll } from './long-poll';
import { SocketWriter } from './socket-writer';
import { SseStream } from './sse';

const backlog = { maxBytes: 1 << 20, cut() {} };
const user = { id: 'u', name: 'u' };
const ready = () => new OutgoingEvent('ready', '{"type":"ready"}', 'c0');

/** What the SDK did: an entry's advice, or (a long poll answered early) the next poll, from the answer's cursor. */
type Decision = Reconnect | 'next poll';

/**
 * A gateway whose streams open with `ready`; the first one then ends with `disconnect` (over long poll, the second
 * poll: the first one's answer opens the stream). Later streams stay open; a later poll is told to `onLaterPoll`.
 */
async function gatewayEndingWith(disconnect: Disconnect, onLaterPoll: (cursor: string | null) => void) {
  let streams = 0;
  let polls = 0;
  const server = createServer((request, response) => {
    const url = new URL(request.url!, 'http://gateway');
    if (url.pathname === '/api/tickets') {
      response.end('{"ticket":"t","expiresInSeconds":30}');
    } else if (url.pathname === '/sse') {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      const stream = new SseStream(response, user, '127.0.0.1', backlog);
      stream.push(ready());
      if (streams++ === 0) stream.close(disconnect);
    } else if (url.pathname === '/poll') {
      const poll = new PendingPoll(response, user, '127.0.0.1');
      poll.push(ready());
      polls++;
      if (polls === 1) poll.answer();
      else if (polls === 2) poll.close(disconnect);
      else onLaterPoll(url.searchParams.get('cursor'));
    }
  });
  const sockets = new WebSocketServer({ server, path: '/ws' });
  sockets.on('connection', (socket, request) => {
    const writer = new SocketWriter(socket, request.socket, { id: 'u', name: 'u' }, '127.0.0.1', backlog);
    writer.push(ready());
    if (streams++ === 0) writer.close(disconnect);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop() {
      sockets.close();
      server.closeAllConnections();
      server.close();
    },
  };
}

/** Opens an SDK client on `transport` and tells what it does once the gateway has ended its stream with `disconnect`. */
async function sdkDecision(transport: TransportName, disconnect: Disconnect): Promise<Decision> {
  // The first that happens decides: a status after the stream was open, or another poll.
  let decide: (decision: Decision | Promise<Decision>) => void = () => undefined;
  const decided = new Promise<Decision>((resolve) => (decide = resolve));
  const gateway = await gatewayEndingWith(disconnect, (cursor) =>
    decide(cursor === 'c0' ? 'next poll' : Promise.reject(new Error(`the next poll came with cursor ${cursor}, not the answer's`))),
  );
  let tokens = 0;
  let renewed: () => void = () => undefined;
  const tokenRenewed = new Promise<void>((resolve) => (renewed = resolve));
  const client = new ChatClient({
    baseUrl: gateway.url,
    getToken: () => {
      if (++tokens === 2) renewed();
      return `token ${tokens}`;
    },
    transports: [transport],
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    // Far longer than the test: a backoff cannot pass for a reconnect at once.
    backoff: { initialMs: 60_000, maxMs: 60_000 },
    random: () => 0.5,
  });
  let opened = false;
  client.on('status', (status) => {
    if (status.state === 'open') opened = true;
    else if (opened && status.state === 'closed') decide('never');
    else if (opened && status.state === 'reconnecting') {
      // Reauthenticating is reconnecting at once, with a new token.
      decide(status.retryAt! - Date.now() < 10_000 ? tokenRenewed.then(() => 'reauthenticate' as const) : 'backoff');
    }
  });
  try {
    client.start();
    return await decided;
  } finally {
    client.stop();
    gateway.stop();
  }
}

const entries: Array<[string, Disconnect]> = Object.entries(DISCONNECT);
for (const transport of ['websocket', 'sse', 'poll'] as const) {
  for (const [name, disconnect] of entries) {
    const expected: Decision = transport === 'poll' && disconnect.pollStatus === 200 ? 'next poll' : disconnect.reconnect;
    test(`${name} sent over ${transport}: the SDK's next step is ${expected}`, { timeout: 10_000 }, async () => {
      assert.equal(await sdkDecision(transport, disconnect), expected);
    });
  }
}
