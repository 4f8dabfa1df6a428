import type { FastifyRequest } from 'fastify';
import { ClientError } from '@chat/runtime';
import { AuthError, bearerToken, type Principal, type TokenService } from './tokens';
import type { TicketStore } from './tickets';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export class Authenticator {
  constructor(
    private readonly tokens: TokenService,
    private readonly tickets: TicketStore,
  ) {}

  /** Bearer token only: every /api call. */
  async fromHeader(request: FastifyRequest): Promise<Principal> {
    const token = bearerToken(request.headers.authorization);
    if (!token) throw new ClientError('unauthenticated', 'missing Authorization: Bearer token');
    return this.verify(token);
  }

  /** Streams: a single-use `?ticket=` (browsers cannot set headers there) or the bearer token. */
  async forStream(request: FastifyRequest, ticket: string | undefined): Promise<Principal> {
    if (ticket === undefined) return this.fromHeader(request);
    const principal = await this.tickets.redeem(ticket);
    if (!principal) throw new ClientError('unauthenticated', 'ticket is unknown, used or expired');
    if (principal.expiresAt <= Date.now()) throw new ClientError('unauthenticated', 'token expired');
    return principal;
  }

  private async verify(token: string): Promise<Principal> {
    try {
      return await this.tokens.verify(token);
    } catch (error) {
      if (error instanceof AuthError) throw new ClientError('unauthenticated', error.message);
      throw error;
    }
  }
}
