import type { FastifyRequest } from 'fastify';
import type { StreamQuery } from '@chat/protocol';
import { ClientError } from '@chat/runtime';
import type { Principal } from '../auth/tokens';
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
  const plan = await planStream(ctx.store, principal.user.id, parseRoomList(query.rooms), parseCursor(cursor));
  return { principal, plan };
}

/** Calls `expire` when the token behind a stream expires. */
export function expiryTimer(principal: Principal, expire: () => void): NodeJS.Timeout {
  return setTimeout(expire, Math.min(Math.max(principal.expiresAt - Date.now(), 0), 2 ** 31 - 1));
}
