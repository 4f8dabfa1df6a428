import type { UserRef } from '@chat/protocol';

/** Who a verified token or redeemed ticket speaks for. */
export interface Principal {
  user: UserRef;
  /** Token expiry (its `exp` plus the clock tolerance), epoch milliseconds on the wall clock: open streams are closed then. */
  expiresAt: number;
}
