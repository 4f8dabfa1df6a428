import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';
import { DISCONNECT, StreamQuery } from '@chat/protocol';
import { ClientError } from '@chat/runtime';
import type { GatewayContext } from '../context';
import { Session } from '../session/session';
import { ClientFrameHandler } from './client-frames';
import { isOriginAllowed } from './origin';
import { SocketWriter } from './socket-writer';
import type { BacklogLimit } from './write-burst';
import { expiryTimer, openStreamRequest, type StreamRequest } from './stream-request';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Set by /ws's preValidation, read once by its handler: the stream it opens, and the response @fastify/websocket
     * made for the upgrade (the socket is detached from it once upgraded). Null on every other request.
     */
    upgrade: { stream: StreamRequest; response: ServerResponse } | null;
  }
}

/** Pings every socket each interval; a socket that has not answered the previous ping is dead. */
class Heartbeat {
  private readonly alive = new WeakMap<WebSocket, boolean>();
  private readonly timer: NodeJS.Timeout;
  /** One pong listener for every socket (ws calls it with the socket as `this`), not a closure per connection. */
  private readonly markAlive: (this: WebSocket) => void;

  constructor(private readonly sockets: Set<WebSocket>, intervalMs: number) {
    this.timer = setInterval(() => this.sweep(), intervalMs);
    this.timer.unref();
    const alive = this.alive;
    this.markAlive = function () {
      alive.set(this, true);
    };
  }

  watch(socket: WebSocket): void {
    this.alive.set(socket, true);
    socket.on('pong', this.markAlive);
  }

  private sweep(): void {
    for (const socket of this.sockets) {
      if (this.alive.get(socket) === false) {
        socket.terminate();
        continue;
      }
      this.alive.set(socket, false);
      socket.ping();
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

export async function websocketTransport(app: FastifyInstance, { ctx }: { ctx: GatewayContext }): Promise<void> {
  const sockets = new Set<WebSocket>();
  const heartbeat = new Heartbeat(sockets, ctx.config.pingIntervalMs);

  app.addHook('onClose', async () => {
    heartbeat.stop();
    for (const socket of sockets) socket.close(DISCONNECT.shutdown.closeCode, DISCONNECT.shutdown.reason);
  });
  // One error listener for every socket, not a closure each (ws closes the socket itself).
  const logSocketError = (error: Error) => ctx.logger.debug({ err: error }, 'websocket error');
  const backlog: BacklogLimit = {
    maxBytes: ctx.config.maxBufferedBytes,
    cut: () => ctx.metrics.slowConsumerCuts.inc({ transport: 'websocket' }),
  };

  app.decorateRequest('upgrade', null);
  app.get<{ Querystring: StreamQuery }>(
    '/ws',
    {
      websocket: true,
      schema: { querystring: StreamQuery },
      // Refusals happen here, before the upgrade, as plain HTTP statuses.
      preValidation: async (request, reply) => {
        if (!isOriginAllowed(request, ctx.config.allowedOrigins)) throw new ClientError('forbidden', 'origin not allowed');
        request.upgrade = { stream: await openStreamRequest(ctx, request, request.query as StreamQuery), response: reply.raw };
      },
    },
    (socket, request) => {
      const { upgrade } = request;
      if (upgrade === null) throw new Error('/ws opened without its preValidation');
      request.upgrade = null;
      const { principal, plan } = upgrade.stream;
      const connection = request.raw.socket;
      // @fastify/websocket keeps the upgrade's request and reply (Fastify's and Node's) reachable for the
      // socket's whole life, through its error listener and the socket's response slot: about 4 KiB per idle
      // connection. Let them go; our own error listener logs errors.
      socket.removeAllListeners('error');
      socket.on('error', logSocketError);
      upgrade.response.detachSocket(connection);
      const writer = new SocketWriter(socket, connection, principal.user, request.ip, backlog);
      let release: () => void;
      try {
        release = ctx.connections.admit(writer, principal.issuedAt);
      } catch (error) {
        writer.close({ ...DISCONNECT.rateLimited, reason: (error as Error).message });
        return;
      }
      sockets.add(socket);
      heartbeat.watch(socket);

      const session = new Session(principal, ctx.sessionDeps, writer);
      const expiry = expiryTimer(principal, () => writer.close(DISCONNECT.expired));

      socket.on('close', () => {
        clearTimeout(expiry);
        sockets.delete(socket);
        session.close();
        release();
      });

      const frames = new ClientFrameHandler(ctx, principal, session, writer);
      socket.on('message', (data, isBinary) => frames.onMessage(data, isBinary));

      session.begin(plan);
    },
  );
}
