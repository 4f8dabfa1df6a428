import type { UserRef } from '@chat/protocol';

/** Who a verified token or redeemed ticket speaks for. */
export interface Principal {
  user: UserRef;
  /** Token expiry, epoch milliseconds: open streams are closed then. */
  expiresAt: number;
}
