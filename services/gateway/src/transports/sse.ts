import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import { DISCONNECT, StreamQuery, type Disconnect, type ErrorFrame, type UserRef } from '@chat/protocol';
import type { GatewayContext } from '../context';
import type { LiveConnection } from '../session/connections';
import type { OutgoingEvent } from '../session/outgoing-event';
import { Session, type StreamOutput } from '../session/session';
import { expiryTimer, openStreamRequest, takeOverResponse } from './stream-request';
import { WriteBurst, type BacklogLimit } from './write-burst';

/**
 * One open event stream: the session's output and the registry's handle on
 * it. A class, not closures, because thousands of these stay idle: each
 * per-stream closure costs its own context, and a named one (tsx keeps names)
 * a few hundred bytes more.
 */
export class SseStream implements StreamOutput, LiveConnection {
  readonly transport = 'sse';
  private readonly burst: WriteBurst;
  session: Session | undefined;
  expiry: NodeJS.Timeout | undefined;
  release: (() => void) | undefined;

  constructor(
    readonly response: ServerResponse,
    readonly user: UserRef,
    readonly ip: string,
    private readonly limit: BacklogLimit,
  ) {
    this.burst = new WriteBurst(response, this);
  }

  get open(): boolean {
    return !this.response.writableEnded;
  }

  push(event: OutgoingEvent): void {
    if (!this.open) return;
    if (this.burst.backlog > this.limit.maxBytes) {
      this.limit.cut();
      this.close(DISCONNECT.tooSlow);
      return;
    }
    this.burst.write(event.sseEvent);
  }

  /**
   * An `error` event, then the end of the stream (EventSource reconnects by itself after `retry`). After the events
   * written so far: written after the end, they would be an error and lost.
   */
  close(disconnect: Disconnect): void {
    this.burst.flush();
    if (this.response.writableEnded) return;
    const error: ErrorFrame = { type: 'error', code: disconnect.errorCode, message: disconnect.reason };
    this.response.end(`event: error\ndata: ${JSON.stringify(error)}\n\n`);
  }

  /** The response closed (ended by us or by the client): let go of everything the stream held. */
  closed(): void {
    clearTimeout(this.expiry);
    this.session?.close();
    this.release?.();
  }
}

/**
 * Server-Sent Events: `id:` is the cursor, so a reconnecting EventSource
 * resumes through Last-Event-ID by itself. Sending is the HTTP POST.
 */
export async function sseTransport(app: FastifyInstance, { ctx }: { ctx: GatewayContext }): Promise<void> {
  const open = new Set<SseStream>();
  // One timer for every stream: comment lines keep proxies and browsers from timing out.
  const heartbeat = setInterval(() => {
    for (const stream of open) stream.response.write(': keep-alive\n\n');
  }, ctx.config.sseHeartbeatMs);
  heartbeat.unref();
  app.addHook('onClose', async () => {
    clearInterval(heartbeat);
    for (const stream of open) stream.close(DISCONNECT.shutdown);
  });
  // One listener for every stream's response, not one closure each.
  const logResponseError = (error: Error) => ctx.logger.debug({ err: error }, 'sse response error');
  const backlog: BacklogLimit = { maxBytes: ctx.config.maxBufferedBytes, cut: () => ctx.metrics.slowConsumerCuts.inc({ transport: 'sse' }) };

  app.get<{ Querystring: StreamQuery }>('/sse', { schema: { querystring: StreamQuery } }, async (request, reply) => {
    const lastEventId = request.headers['last-event-id'];
    // A reconnecting EventSource keeps its original URL; its Last-Event-ID is the newer position.
    const cursor = typeof lastEventId === 'string' && lastEventId !== '' ? lastEventId : request.query.cursor;
    const { principal, plan } = await openStreamRequest(ctx, request, request.query, cursor);
    const stream = new SseStream(reply.raw, principal.user, request.ip, backlog);
    stream.release = ctx.connections.admit(stream, principal.issuedAt);
    const response = takeOverResponse(reply);
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx and similar proxies must pass events through as they come.
      'x-accel-buffering': 'no',
    });
    response.write(`retry: ${ctx.config.sseRetryMs}\n\n`);
    open.add(stream);

    const session = new Session(principal, ctx.sessionDeps, stream);
    stream.session = session;
    stream.expiry = expiryTimer(principal, () => stream.close(DISCONNECT.expired));
    // A ServerResponse closes after it finishes too, so this covers both ends.
    response.once('close', () => {
      open.delete(stream);
      stream.closed();
    });
    response.on('error', logResponseError);
    session.begin(plan);
  });
}
