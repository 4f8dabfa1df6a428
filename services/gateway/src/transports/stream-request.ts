import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { StreamQuery } from '@chat/protocol';
import { ClientError } from '@chat/runtime';
import type { Principal } from '../ports/principal';
import type { GatewayContext } from '../context';
import { parseCursor, parseRoomList, planStream, type StreamPlan } from '../session/stream-plan';

export interface StreamRequest {
  principal: Principal;
  plan: StreamPlan;
}

/**
 * What every transport does before it commits to a stream: refuse while
 * draining, authenticate (ticket or bearer), check access to every room and
 * decide where each starts. Failures are ClientErrors, still answerable with
 * an HTTP status.
 */
export async function openStreamRequest(
  ctx: GatewayContext,
  request: FastifyRequest,
  query: StreamQuery,
  cursor: string | undefined = query.cursor,
): Promise<StreamRequest> {
  if (!ctx.isAccepting()) throw new ClientError('unavailable', 'this gateway is draining; reconnect to another replica');
  const principal = await ctx.auth.forStream(request, query.ticket);
  // Each open reads the user's rooms (and a WebSocket's gets a fresh frame burst): a user reopening streams in a loop
  // is refused past the opens' bucket (a long poll, which opens once per answer, draws on the API's).
  ctx.limits.checkStreamOpen(principal.user.id, request.routeOptions.url === '/poll');
  const plan = await planStream(ctx.store, principal.user.id, parseRoomList(query.rooms), parseCursor(cursor));
  return { principal, plan };
}

/**
 * Calls `expire` when the token behind a stream expires, within a second after: the delay is rounded up to whole
 * seconds (a token's `exp` has no finer grain). Node keeps one list per distinct delay, so streams opened within the
 * same second share one instead of each holding its own (about 0.1 KiB per stream).
 */
export function expiryTimer(principal: Principal, expire: () => void): NodeJS.Timeout {
  return setTimeout(expire, expiryDelayMs(principal.expiresAt, Date.now()));
}

export function expiryDelayMs(expiresAt: number, now: number): number {
  return Math.min(Math.ceil(Math.max(expiresAt - now, 0) / 1000) * 1000, 2 ** 31 - 1);
}

/**
 * Takes a stream's response over from Fastify, whose part ends here. Fastify
 * would otherwise keep its Request, Reply and per-request logger reachable
 * from the response's `finish` listener for as long as the stream stays open
 * (about 1 KiB per idle stream). That listener (`onResFinished`, Fastify's
 * only handle on a hijacked response) is run now instead: it runs the
 * onResponse hooks (a trace's request span ends once the stream is set up, as
 * for a WebSocket upgrade) and removes itself.
 */
export function takeOverResponse(reply: FastifyReply): ServerResponse {
  reply.hijack();
  const response = reply.raw;
  for (const listener of response.listeners('finish')) {
    if (listener.name === RESPONSE_LISTENER) (listener as () => void)();
  }
  return response;
}

/** Fastify's private name for it (lib/reply.js), which takeOverResponse depends on. */
const RESPONSE_LISTENER = 'onResFinished';

/**
 * Whether this Fastify still names its response listener as takeOverResponse expects: asked once at start-up of
 * a throwaway instance, so that an upgrade that renamed it is a warning in the log rather than a silent cost.
 * Without it streams still work; each keeps Fastify's request objects, and its onResponse hooks run at its end.
 */
export async function canTakeOverResponses(): Promise<boolean> {
  const probe = Fastify();
  // Fastify listens for the end of a response only when something waits for it: a logger or an onResponse hook.
  probe.addHook('onResponse', async () => undefined);
  let found = false;
  probe.get('/', (_request, reply) => {
    found = reply.raw.listeners('finish').some((listener) => listener.name === RESPONSE_LISTENER);
    return reply.send('');
  });
  try {
    await probe.inject('/');
  } finally {
    await probe.close();
  }
  return found;
}
