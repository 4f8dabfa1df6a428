import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ProxyBehaviour {
  /** Refuse WebSocket upgrades, as some corporate proxies do. */
  blockUpgrades?: boolean;
  /** Hold SSE responses until they end, as a buffering proxy does: the client sees no event. */
  bufferSse?: boolean;
  /** Drop every connection: the network is down. */
  down?: boolean;
}

export interface TestProxy {
  url: string;
  behaviour: ProxyBehaviour;
  /** Cuts every open connection, as a network drop does. */
  cut(): void;
  close(): Promise<void>;
}

/** A loopback HTTP proxy in front of one gateway, whose misbehaviour a test switches on and off. */
export async function startProxy(target: string, behaviour: ProxyBehaviour = {}): Promise<TestProxy> {
  const targetUrl = new URL(target);
  const sockets = new Set<Socket>();
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    if (proxy.behaviour.down) {
      request.socket.destroy();
      return;
    }
    const upstream = httpRequest(
      { host: targetUrl.hostname, port: targetUrl.port, method: request.method, path: request.url, headers: request.headers },
      (upstreamResponse) => {
        const isSse = (upstreamResponse.headers['content-type'] ?? '').startsWith('text/event-stream');
        if (isSse && proxy.behaviour.bufferSse) {
          const chunks: Buffer[] = [];
          upstreamResponse.on('data', (chunk: Buffer) => chunks.push(chunk));
          upstreamResponse.on('end', () => {
            response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
            response.end(Buffer.concat(chunks));
          });
          return;
        }
        response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
        upstreamResponse.pipe(response);
      },
    );
    upstream.on('error', () => response.destroy());
    response.on('close', () => upstream.destroy());
    request.pipe(upstream);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
    if (proxy.behaviour.down || proxy.behaviour.blockUpgrades) {
      socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    const upstream = connect(Number(targetUrl.port), targetUrl.hostname, () => {
      const headers = Object.entries(request.headers).map(([key, value]) => `${key}: ${Array.isArray(value) ? value.join(', ') : value}`);
      upstream.write(`${request.method} ${request.url} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`);
      upstream.write(head);
      upstream.pipe(socket).pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy: TestProxy = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    behaviour,
    cut() {
      for (const socket of sockets) socket.destroy();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  return proxy;
}
