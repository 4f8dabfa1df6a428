import type { FastifyRequest } from 'fastify';

/**
 * Cross-site WebSocket hijacking defence: a browser always sends Origin, and
 * it must be this site or an allowed one. Clients that are not browsers send
 * none and still need a token.
 */
export function isOriginAllowed(request: FastifyRequest, allowed: readonly string[]): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  if (allowed.includes('*') || allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}
