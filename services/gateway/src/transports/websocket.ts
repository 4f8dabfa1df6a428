import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { parseClientFrame, StreamQuery, type ClientFrame, type ErrorFrame } from '@chat/protocol';
import { ClientError } from '@chat/runtime';
import { inSpan } from '@chat/telemetry';
import type { GatewayContext } from '../context';
import type { RoomCommand } from '../session/message-sender';
import { Session } from '../session/session';
import { planStream } from '../session/stream-plan';
import { isOriginAllowed } from './origin';
import { WriteBurst } from './write-burst';
import { websocketTextFrame } from '../session/outgoing-event';
import { expiryTimer, openStreamRequest, type StreamRequest } from './stream-request';

export const CLOSE = {
  goingAway: 1001,
  internalError: 1011,
  serviceRestart: 1012,
  unauthenticated: 4001,
  forbidden: 4003,
  /** Extension: the client fell too far behind; resume with the cursor. */
  tooSlow: 4008,
  rateLimited: 4029,
} as const;

/** Past this many refused sends in a row, the client is not backing off: close with 4029. */
const MAX_REFUSED_SENDS_IN_A_ROW = 20;

declare module 'fastify' {
  interface FastifyRequest {
    stream?: StreamRequest;
    /** The response @fastify/websocket made for the upgrade; the socket is detached from it once upgraded. */
    upgradeResponse?: ServerResponse;
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

function errorFrame(error: unknown): ErrorFrame {
  if (error instanceof ClientError) return { type: 'error', code: error.code, message: error.message };
  return { type: 'error', code: 'internal', message: 'internal error' };
}

export async function websocketTransport(app: FastifyInstance, { ctx }: { ctx: GatewayContext }): Promise<void> {
  const sockets = new Set<WebSocket>();
  const heartbeat = new Heartbeat(sockets, ctx.config.pingIntervalMs);

  app.addHook('onClose', async () => {
    heartbeat.stop();
    for (const socket of sockets) socket.close(CLOSE.goingAway, 'server shutting down');
  });

  app.get<{ Querystring: StreamQuery }>(
    '/ws',
    {
      websocket: true,
      schema: { querystring: StreamQuery },
      // Refusals happen here, before the upgrade, as plain HTTP statuses.
      preValidation: async (request, reply) => {
        if (!isOriginAllowed(request, ctx.config.allowedOrigins)) throw new ClientError('forbidden', 'origin not allowed');
        request.stream = await openStreamRequest(ctx, request, request.query as StreamQuery);
        request.upgradeResponse = reply.raw;
      },
    },
    (socket, request) => {
      const { principal, plan } = request.stream!;
      const connection = request.raw.socket;
      // @fastify/websocket keeps the upgrade's request and reply (Fastify's and Node's) reachable for the
      // socket's whole life, through its error listener and the socket's response slot: about 4 KiB per idle
      // connection. Let them go; our own error listener logs errors (ws closes the socket itself).
      socket.removeAllListeners('error');
      socket.on('error', (error) => ctx.logger.debug({ err: error }, 'websocket error'));
      request.upgradeResponse!.detachSocket(connection);
      request.upgradeResponse = undefined;
      let release: () => void;
      try {
        release = ctx.connections.admit({
          transport: 'websocket',
          user: principal.user,
          ip: request.ip,
          goAway: () => socket.close(CLOSE.serviceRestart, 'server restarting: reconnect'),
        });
      } catch (error) {
        socket.close(CLOSE.rateLimited, (error as Error).message);
        return;
      }
      sockets.add(socket);
      heartbeat.watch(socket);

      const burst = new WriteBurst(connection);
      // Frames are written to the TCP socket ready-made (ws frames only pings, pongs and closes here,
      // synchronously, since permessage-deflate is off): an event's frame is encoded once and the same
      // bytes go to every stream at its cursor.
      const sendFrame = (frame: Buffer) => {
        if (socket.readyState !== socket.OPEN) return;
        // What the client has not read yet; this burst's own frames are on their way, not a backlog.
        if (socket.bufferedAmount - burst.pendingBytes > ctx.config.maxBufferedBytes) {
          ctx.metrics.slowConsumerCuts.inc({ transport: 'websocket' });
          socket.close(CLOSE.tooSlow, 'too slow: resume with your cursor');
          return;
        }
        burst.begin();
        connection.write(frame);
        burst.wrote(frame.length);
      };
      const sendJson = (frame: object) => sendFrame(websocketTextFrame(JSON.stringify(frame)));

      const session = new Session(principal, ctx.sessionDeps, {
        push: (event) => sendFrame(event.websocketFrame),
        fail: (reason) => socket.close(CLOSE.internalError, reason),
      });
      const expiry = expiryTimer(principal, () => socket.close(CLOSE.unauthenticated, 'token expired'));

      socket.on('close', () => {
        clearTimeout(expiry);
        sockets.delete(socket);
        session.close();
        release();
      });

      // Sends from one connection are accepted one after another, so they keep their order in the room.
      let acceptTurn: Promise<unknown> = Promise.resolve();
      let refusedInARow = 0;

      async function handleFrame(frame: ClientFrame): Promise<void> {
        try {
          switch (frame.type) {
            case 'ping':
              sendJson({ type: 'pong' });
              return;
            case 'send':
            case 'edit':
            case 'delete': {
              const command: RoomCommand =
                frame.type === 'send'
                  ? { room: frame.room, clientMsgId: frame.clientMsgId, text: frame.text }
                  : frame.type === 'edit'
                    ? { kind: 'message_edited', room: frame.room, target: frame.target, clientMsgId: frame.clientMsgId, text: frame.text }
                    : { kind: 'message_deleted', room: frame.room, target: frame.target, clientMsgId: frame.clientMsgId, text: '' };
              const accepted = acceptTurn.then(() => ctx.sender.accept(principal.user, command));
              acceptTurn = accepted.catch(() => undefined);
              await (await accepted).durable;
              refusedInARow = 0;
              sendJson({ type: 'ack', clientMsgId: frame.clientMsgId });
              return;
            }
            case 'subscribe': {
              const more = await planStream(ctx.store, principal.user.id, frame.rooms, new Map(session.carriedPositions));
              await session.addRooms(more.positions);
              return;
            }
            case 'unsubscribe':
              session.removeRooms(frame.rooms);
              return;
            case 'typing':
              await ctx.typing.notify(principal.user, frame.room);
              return;
          }
        } catch (error) {
          if (!(error instanceof ClientError)) ctx.logger.error({ err: error, frame: frame.type }, 'frame handling failed');
          const failure: ErrorFrame & { retryAfterMs?: number } = errorFrame(error);
          if ('clientMsgId' in frame) failure.clientMsgId = frame.clientMsgId;
          trace.getActiveSpan()?.setStatus({ code: SpanStatusCode.ERROR, message: failure.code });
          if (error instanceof ClientError && error.code === 'rate_limited') {
            failure.retryAfterMs = error.retryAfterMs;
            if (++refusedInARow > MAX_REFUSED_SENDS_IN_A_ROW) socket.close(CLOSE.rateLimited, 'rate limited: slow down');
          }
          sendJson(failure);
        }
      }

      /** Each frame is the root of its own trace (a socket lives far longer than one), ending with its ack or error. */
      function traceFrame(frame: ClientFrame): Promise<void> {
        const room = 'room' in frame ? { 'chat.room.id': frame.room } : {};
        return inSpan(`websocket ${frame.type}`, { kind: SpanKind.SERVER, root: true, attributes: { 'chat.frame.type': frame.type, ...room } }, () =>
          handleFrame(frame),
        );
      }

      socket.on('message', (data, isBinary) => {
        if (isBinary) {
          sendJson({ type: 'error', code: 'invalid_input', message: 'binary frames are not supported' });
          return;
        }
        const parsed = parseClientFrame(data.toString());
        if (!parsed.ok) sendJson(parsed.error);
        else if (parsed.frame.type === 'ping') void handleFrame(parsed.frame);
        else void traceFrame(parsed.frame);
      });

      void session.start(plan);
    },
  );
}
