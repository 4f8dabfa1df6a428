import { createHash, randomBytes } from 'node:crypto';
import type { Pool } from '@chat/db';
import type { Principal } from '../ports/principal';
import { TICKET_TTL_SECONDS, type TicketStore } from '../ports/ticket-store';

function hash(ticket: string): Buffer {
  return createHash('sha256').update(ticket).digest();
}

/**
 * Single-use, short-lived stream tickets, kept in Postgres so that a ticket
 * issued by one gateway replica can be redeemed at any other.
 */
export class PgTicketStore implements TicketStore {
  constructor(private readonly pool: Pool) {}

  async issue(principal: Principal): Promise<string> {
    const ticket = randomBytes(24).toString('base64url');
    await this.pool.query(
      `WITH swept AS (DELETE FROM stream_tickets WHERE expires_at < now() - interval '1 minute')
       INSERT INTO stream_tickets (ticket_hash, user_id, user_name, token_expires_at, expires_at, token_issued_at)
       VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5), $6)`,
      [hash(ticket), principal.user.id, principal.user.name, new Date(principal.expiresAt), TICKET_TTL_SECONDS, new Date(principal.issuedAt)],
    );
    return ticket;
  }

  async redeem(ticket: string): Promise<Principal | null> {
    const { rows } = await this.pool.query<{ user_id: string; user_name: string; token_expires_at: Date; token_issued_at: Date | null }>(
      `DELETE FROM stream_tickets WHERE ticket_hash = $1 AND expires_at > now()
       RETURNING user_id, user_name, token_expires_at, token_issued_at`,
      [hash(ticket)],
    );
    const row = rows[0];
    if (!row) return null;
    // A ticket of an earlier release has no issue time: as old as can be, so any sign-out voids it.
    return { user: { id: row.user_id, name: row.user_name }, expiresAt: row.token_expires_at.getTime(), issuedAt: row.token_issued_at?.getTime() ?? 0 };
  }
}
