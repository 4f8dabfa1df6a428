import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import { StreamQuery } from '@chat/protocol';
import type { GatewayContext } from '../context';
import { Session } from '../session/session';
import { expiryTimer, openStreamRequest } from './stream-request';
import { WriteBurst } from './write-burst';

/** An `error` event, then the end of the stream: EventSource reconnects by itself after `retry`. */
function endWithError(response: ServerResponse, code: string, message: string): void {
  if (response.writableEnded) return;
  response.end(`event: error\ndata: ${JSON.stringify({ type: 'error', code, message })}\n\n`);
}

/**
 * Server-Sent Events: `id:` is the cursor, so a reconnecting EventSource
 * resumes through Last-Event-ID by itself. Sending is the HTTP POST.
 */
export async function sseTransport(app: FastifyInstance, { ctx }: { ctx: GatewayContext }): Promise<void> {
  const open = new Set<ServerResponse>();
  // One timer for every stream: comment lines keep proxies and browsers from timing out.
  const heartbeat = setInterval(() => {
    for (const response of open) response.write(': keep-alive\n\n');
  }, ctx.config.sseHeartbeatMs);
  heartbeat.unref();
  app.addHook('onClose', async () => {
    clearInterval(heartbeat);
    for (const response of open) endWithError(response, 'unavailable', 'server shutting down: reconnect');
  });

  app.get<{ Querystring: StreamQuery }>('/sse', { schema: { querystring: StreamQuery } }, async (request, reply) => {
    const lastEventId = request.headers['last-event-id'];
    // A reconnecting EventSource keeps its original URL; its Last-Event-ID is the newer position.
    const cursor = typeof lastEventId === 'string' && lastEventId !== '' ? lastEventId : request.query.cursor;
    const { principal, plan } = await openStreamRequest(ctx, request, request.query, cursor);
    const response = reply.raw;
    const release = ctx.connections.admit({
      transport: 'sse',
      user: principal.user,
      ip: request.ip,
      goAway: () => endWithError(response, 'unavailable', 'server restarting: reconnect'),
    });
    reply.hijack();
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx and similar proxies must pass events through as they come.
      'x-accel-buffering': 'no',
    });
    response.write(`retry: ${ctx.config.sseRetryMs}\n\n`);
    open.add(response);

    const burst = new WriteBurst(response);
    const session = new Session(
      principal,
      ctx.sessionDeps,
      {
        push: (event) => {
          if (response.writableEnded) return;
          if (response.writableLength - burst.pendingBytes > ctx.config.maxBufferedBytes) {
            ctx.metrics.slowConsumerCuts.inc({ transport: 'sse' });
            endWithError(response, 'too_slow', 'too slow: resume with your cursor');
            return;
          }
          const bytes = event.sseEvent;
          burst.begin();
          response.write(bytes);
          burst.wrote(bytes.length);
        },
        fail: (reason) => endWithError(response, 'unavailable', reason),
      },
    );
    const expiry = expiryTimer(principal, () => endWithError(response, 'unauthenticated', 'token expired'));
    const cleanUp = () => {
      clearTimeout(expiry);
      open.delete(response);
      session.close();
      release();
    };
    response.on('close', cleanUp);
    response.on('finish', cleanUp);
    response.on('error', (error) => ctx.logger.debug({ err: error }, 'sse response error'));
    await session.start(plan);
  });
}
