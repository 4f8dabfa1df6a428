import fastifyStatic from '@fastify/static';
import fastifyWebsocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { existsSync } from 'node:fs';
import { createServiceApp } from '@chat/runtime';
import type { GatewayContext } from './context';
import { authRoutes } from './http/auth-routes';
import { roomRoutes } from './http/room-routes';
import { trustProxyOption } from './http/trusted-proxies';
import { longPollTransport } from './transports/long-poll';
import { sseTransport } from './transports/sse';
import { websocketTransport } from './transports/websocket';

export const MAX_FRAME_BYTES = 64 * 1024;

export async function buildGatewayApp(ctx: GatewayContext, isReady: () => boolean, metrics: Registry): Promise<FastifyInstance> {
  const app = createServiceApp({
    logger: ctx.logger,
    isReady,
    bodyLimit: MAX_FRAME_BYTES,
    metrics,
    fastify: { trustProxy: trustProxyOption(ctx.config.trustedProxies) },
  });
  await app.register(fastifyWebsocket, {
    // ws accepts 100 MiB frames by default; compression is off so a small frame cannot inflate into a big one.
    options: { maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false },
  });
  await app.register(authRoutes, { ctx });
  await app.register(roomRoutes, { ctx });
  await app.register(websocketTransport, { ctx });
  await app.register(sseTransport, { ctx });
  await app.register(longPollTransport, { ctx });
  if (existsSync(ctx.config.webRoot)) {
    await app.register(fastifyStatic, { root: ctx.config.webRoot, prefix: '/', wildcard: false });
  }
  return app;
}
