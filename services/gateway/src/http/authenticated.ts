import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Authenticator } from '../auth/authenticate';
import type { Principal } from '../ports/principal';
import type { RequestLimits } from '../session/request-limits';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `authenticated` before any handler of its scope runs; null elsewhere. */
    principal: Principal | null;
  }
}

/**
 * Every request of this plugin scope carries a bearer token, verified before its handler runs (401 otherwise), and is
 * within its user's rate limits (429 otherwise).
 */
export function authenticated(app: FastifyInstance, auth: Authenticator, limits: RequestLimits): void {
  // Declared up front, so every request has the same shape (Fastify's decorators docs).
  app.decorateRequest('principal', null);
  app.addHook('preHandler', async (request) => {
    request.principal = await auth.fromHeader(request);
    limits.checkUser(request.principal.user.id, request.method, request.routeOptions.url);
  });
}

/** Who sent a request of an authenticated scope. */
export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw new Error(`${request.url} is outside an authenticated scope`);
  return request.principal;
}
