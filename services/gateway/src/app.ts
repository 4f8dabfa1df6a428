import fastifyStatic from '@fastify/static';
import fastifyWebsocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_FRAME_BYTES } from '@chat/protocol';
import { createServiceApp } from '@chat/runtime';
import type { GatewayContext } from './context';
import { authRoutes } from './http/auth-routes';
import { GatewayReadiness, type ReadinessDeps } from './http/readiness';
import { roomRoutes } from './http/room-routes';
import { securityHeaders } from './http/security-headers';
import { trustProxyOption } from './http/trusted-proxies';
import { longPollTransport } from './transports/long-poll';
import { sseTransport } from './transports/sse';
import { canTakeOverResponses } from './transports/stream-request';
import { websocketTransport } from './transports/websocket';

const WEB_NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Chat</title>
<h1>The web app is not built</h1>
<p>Run <code>npm run build -w web</code> (or <code>npm start</code>, which builds it), or point <code>WEB_ROOT</code> at a build.
The API is at <code>/api</code> and the streams at <code>/ws</code>, <code>/sse</code> and <code>/poll</code>.</p>`;

export async function buildGatewayApp(ctx: GatewayContext, readinessDeps: ReadinessDeps, metrics: Registry): Promise<FastifyInstance> {
  const readiness = new GatewayReadiness(readinessDeps);
  const app = createServiceApp({
    logger: ctx.logger,
    isReady: () => readiness.check(),
    bodyLimit: MAX_FRAME_BYTES,
    metrics,
    fastify: { trustProxy: trustProxyOption(ctx.config.trustedProxies) },
  });
  if (!(await canTakeOverResponses())) {
    ctx.logger.warn("Fastify's response listener is no longer named onResFinished: each SSE stream and long poll keeps its request objects (about 1 KiB) and ends its request span only when it closes (transports/stream-request.ts)");
  }
  securityHeaders(app);
  await app.register(fastifyWebsocket, {
    // ws accepts 100 MiB frames by default; compression is off so a small frame cannot inflate into a big one.
    options: { maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false },
  });
  await app.register(authRoutes, { ctx });
  await app.register(roomRoutes, { ctx });
  await app.register(websocketTransport, { ctx });
  await app.register(sseTransport, { ctx });
  await app.register(longPollTransport, { ctx });
  if (existsSync(join(ctx.config.webRoot, 'index.html'))) {
    await app.register(fastifyStatic, { root: ctx.config.webRoot, prefix: '/', wildcard: false });
  } else {
    ctx.logger.warn({ webRoot: ctx.config.webRoot }, 'the web app is not built; / serves a notice (npm run build -w web)');
    app.get('/', (_request, reply) => reply.status(503).type('text/html; charset=utf-8').send(WEB_NOT_BUILT));
  }
  return app;
}
