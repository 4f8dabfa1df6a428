import type { FastifyInstance } from 'fastify';
import { LoginBody } from '@chat/protocol';
import { ClientError } from '@chat/runtime';
import type { GatewayContext } from '../context';
import { TICKET_TTL_SECONDS } from '../ports/ticket-store';

export async function authRoutes(app: FastifyInstance, { ctx }: { ctx: GatewayContext }): Promise<void> {
  app.post<{ Body: LoginBody }>('/api/login', { schema: { body: LoginBody } }, async (request) => {
    if (!ctx.config.devLogin || !ctx.tokens.canIssue) {
      throw new ClientError('forbidden', 'development login is disabled; use your identity provider');
    }
    ctx.limits.checkLogin(request.ip);
    const user = await ctx.store.upsertUser(request.body.username);
    return { token: await ctx.tokens.issue(user), user };
  });

  // Ends the user's sessions everywhere: every token issued until now is void on every gateway, and the streams
  // opened with them end (4001). The token of this request included.
  app.post('/api/logout', async (request, reply) => {
    const principal = await ctx.auth.fromHeader(request);
    ctx.limits.checkUser(principal.user.id, request.method, request.routeOptions.url);
    await ctx.signOut(principal.user.id);
    return reply.status(204).send();
  });

  app.post('/api/tickets', async (request) => {
    const principal = await ctx.auth.fromHeader(request);
    ctx.limits.checkUser(principal.user.id, request.method, request.routeOptions.url);
    return { ticket: await ctx.tickets.issue(principal), expiresInSeconds: TICKET_TTL_SECONDS };
  });
}
