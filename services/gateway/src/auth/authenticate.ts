import type { FastifyRequest } from 'fastify';
import { ClientError } from '@chat/runtime';
import type { Principal } from '../ports/principal';
import { AuthError, bearerToken, type TokenService } from './tokens';
import type { TicketStore } from '../ports/ticket-store';
import type { RoomStore } from '../ports/room-store';
import type { SignOuts } from '../session/sign-outs';

/** Users this process has already recorded; bounded, since forgetting one costs only a no-op insert. */
const MAX_KNOWN_USERS = 100_000;

export class Authenticator {
  private readonly knownUsers = new Set<string>();

  constructor(
    private readonly tokens: TokenService,
    private readonly tickets: TicketStore,
    private readonly store: Pick<RoomStore, 'ensureUser'>,
    private readonly signOuts: Pick<SignOuts, 'check'>,
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
    this.signOuts.check(principal);
    return principal;
  }

  private async verify(token: string): Promise<Principal> {
    let principal: Principal;
    try {
      principal = await this.tokens.verify(token);
    } catch (error) {
      if (error instanceof AuthError) throw new ClientError('unauthenticated', error.message);
      throw error;
    }
    this.signOuts.check(principal);
    // A user first seen through an identity provider's token gets a row that rooms can reference.
    if (!this.knownUsers.has(principal.user.id)) {
      await this.store.ensureUser(principal.user);
      if (this.knownUsers.size >= MAX_KNOWN_USERS) this.knownUsers.clear();
      this.knownUsers.add(principal.user.id);
    }
    return principal;
  }
}
