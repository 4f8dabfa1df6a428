import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { DISCONNECT } from '@chat/protocol';
import { OutgoingEvent } from '../session/outgoing-event';
import { SocketWriter } from './socket-writer';
import { SseStream } from './sse';

const backlog = { maxBytes: 1 << 20, cut() {} };
const event = (seq: number) => new OutgoingEvent('message', `{"type":"message","seq":${seq}}`, `c${seq}`);

test('frames written just before a WebSocket close reach the client ahead of the close frame', async () => {
  const server = createServer();
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket, request) => {
    const writer = new SocketWriter(socket, request.socket, { id: 'u', name: 'u' }, '127.0.0.1', backlog);
    // All in one task, as when a batch of refusals ends in a close: the frames are still held in the burst.
    writer.push(event(1));
    writer.text('{"type":"error","code":"rate_limited"}');
    writer.close(DISCONNECT.rateLimited);
    writer.text('{"type":"error","code":"too late"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const received: string[] = [];
    client.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type: string; code?: string };
      received.push(frame.code ? `${frame.type} ${frame.code}` : frame.type);
    });
    const [code] = (await once(client, 'close')) as [number];
    assert.equal(code, DISCONNECT.rateLimited.closeCode);
    assert.deepEqual(received, ['message', 'error rate_limited'], 'the frames before the close, and none after it');
  } finally {
    wss.close();
    server.close();
  }
});

test('events written just before an SSE stream ends reach the client ahead of its closing error event', async () => {
  const server = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    const stream = new SseStream(response, { id: 'u', name: 'u' }, '127.0.0.1', backlog);
    stream.push(event(1));
    stream.push(event(2));
    stream.close(DISCONNECT.expired);
    stream.push(event(3));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const response = await new Promise<IncomingMessage>((resolve) => get(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, resolve));
    let body = '';
    for await (const chunk of response) body += chunk;
    const ids = [...body.matchAll(/^id: (\S+)$/gm)].map((match) => match[1]);
    assert.deepEqual(ids, ['c1', 'c2'], 'both events before the end, none after it');
    assert.match(body.slice(body.lastIndexOf('id: c2')), /event: error\ndata: \{"type":"error","code":"unauthenticated"/);
  } finally {
    server.close();
  }
});
