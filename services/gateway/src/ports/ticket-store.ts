import type { Principal } from './principal';

/** How long a ticket stays redeemable; `POST /api/tickets` says it as `expiresInSeconds`. */
export const TICKET_TTL_SECONDS = 30;

/** Single-use, short-lived stream tickets that any replica can redeem. */
export interface TicketStore {
  issue(principal: Principal): Promise<string>;
  /** The principal, once; a second redeem, or a late one, gets null. */
  redeem(ticket: string): Promise<Principal | null>;
}
