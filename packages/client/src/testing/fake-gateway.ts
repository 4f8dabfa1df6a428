import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocketClient, { WebSocketServer, type WebSocket } from 'ws';
import type { ClientFrame, ServerFrame } from '@chat/protocol';
import { ChatClient, type ChatClientOptions, type ConnectionStatus } from '../client';

/**
 * A gateway for the SDK's unit tests, on a loopback port: it hands out
 * tickets and accepts streams on every transport, then does whatever the
 * test's script says with each (answer, fall silent, drop). Each handler's `n`
 * counts that transport's streams from 1.
 */
export interface FakeGatewayScript {
  websocket?(socket: WebSocket, n: number): void;
  sse?(response: ServerResponse, n: number): void;
  poll?(request: IncomingMessage, response: ServerResponse, n: number): void;
  /** `POST /api/rooms/{id}/messages` and `/typing`, with the request's body. */
  post?(request: IncomingMessage, response: ServerResponse, body: string): void;
}

export interface FakeGateway {
  url: string;
  /** What the client sent on each WebSocket, in the order the sockets opened. */
  wsFrames: ClientFrame[][];
  /** Whether each WebSocket, in the same order, has closed. */
  wsClosed: boolean[];
  /** The URL each WebSocket was opened with, in the same order. */
  wsUrls: URL[];
  /** The URL of every poll, in order. */
  polls: URL[];
  close(): Promise<void>;
}

export function send(socket: WebSocket, frame: ServerFrame): void {
  socket.send(JSON.stringify(frame));
}

/** Answers every ping with a pong, as the gateway does, and nothing else. */
export function answerPings(socket: WebSocket): void {
  socket.on('message', (data: Buffer) => {
    if ((JSON.parse(data.toString()) as ClientFrame).type === 'ping') send(socket, { type: 'pong' });
  });
}

export function openSse(response: ServerResponse, cursor: string): void {
  response.writeHead(200, { 'content-type': 'text/event-stream' });
  response.write(`id: ${cursor}\nevent: ready\ndata: ${JSON.stringify({ type: 'ready', cursor })}\n\n`);
}

export function answerPoll(response: ServerResponse, cursor: string, events: ServerFrame[] = []): void {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ events, cursor }));
}

export async function startFakeGateway(script: FakeGatewayScript): Promise<FakeGateway> {
  const wsFrames: ClientFrame[][] = [];
  const wsClosed: boolean[] = [];
  const wsUrls: URL[] = [];
  const polls: URL[] = [];
  let sseCount = 0;
  const wss = new WebSocketServer({ noServer: true });
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://fake');
    if (request.method === 'POST' && url.pathname === '/api/tickets') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"ticket":"t"}');
    } else if (request.method === 'POST' && url.pathname.startsWith('/api/rooms/')) {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => (script.post ? script.post(request, response, body) : response.writeHead(202).end()));
    } else if (url.pathname === '/sse' && script.sse) {
      script.sse(response, ++sseCount);
    } else if (url.pathname === '/poll' && script.poll) {
      polls.push(url);
      script.poll(request, response, polls.length);
    } else {
      response.writeHead(404).end();
    }
  });
  server.on('upgrade', (request, socket, head) => {
    if (!script.websocket) return socket.destroy();
    wss.handleUpgrade(request, socket, head, (ws) => {
      const frames: ClientFrame[] = [];
      const index = wsFrames.push(frames) - 1;
      wsClosed.push(false);
      wsUrls.push(new URL(request.url ?? '/', 'http://fake'));
      ws.on('message', (data: Buffer) => frames.push(JSON.parse(data.toString()) as ClientFrame));
      ws.on('close', () => (wsClosed[index] = true));
      script.websocket!(ws, wsFrames.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    wsFrames,
    wsClosed,
    wsUrls,
    polls,
    async close() {
      for (const client of wss.clients) client.terminate();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export async function waitFor(probe: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A client of a fake gateway with short timings, and the statuses it went through. */
export async function withClient(script: FakeGatewayScript, options: Partial<ChatClientOptions>, run: (client: ChatClient, gateway: FakeGateway, statuses: ConnectionStatus[]) => Promise<void>) {
  const gateway = await startFakeGateway(script);
  const client = new ChatClient({
    baseUrl: gateway.url,
    getToken: () => 'token',
    WebSocket: WebSocketClient as unknown as typeof globalThis.WebSocket,
    backoff: { initialMs: 10, maxMs: 50 },
    openTimeoutMs: 1_000,
    ...options,
  });
  const statuses: ConnectionStatus[] = [];
  client.on('status', (status) => statuses.push(status));
  try {
    client.start();
    await run(client, gateway, statuses);
  } finally {
    client.stop();
    await gateway.close();
  }
}
