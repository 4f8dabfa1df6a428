import type { UserRef } from '@chat/protocol';

/** Who a verified token or redeemed ticket speaks for. */
export interface Principal {
  user: UserRef;
  /** Token expiry (its `exp` plus the clock tolerance), epoch milliseconds on the wall clock: open streams are closed then. */
  expiresAt: number;
  /**
   * When its token was issued, epoch milliseconds (for a token that says it in seconds only, the end of that second):
   * a token issued before its user's last sign-out is void (session/sign-outs.ts).
   */
  issuedAt: number;
}
