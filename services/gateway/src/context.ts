import type { Logger } from '@chat/runtime';
import type { Authenticator } from './auth/authenticate';
import type { TicketStore } from './ports/ticket-store';
import type { TokenService } from './auth/tokens';
import type { GatewayConfig } from './config';
import type { RoomStore } from './ports/room-store';
import type { Hub } from './session/hub';
import type { MessageSender } from './session/message-sender';
import type { MembershipCache } from './session/membership-cache';
import type { MembershipLog } from './ports/membership-log';
import type { ConnectionRegistry } from './session/connections';
import type { TypingNotifier } from './session/typing';
import type { SessionDeps } from './session/session';
import type { GatewayMetrics } from './metrics';
import type { RequestLimits } from './session/request-limits';

/** Everything the routes and transports of one gateway share. */
export interface GatewayContext {
  config: GatewayConfig;
  logger: Logger;
  store: RoomStore;
  tokens: TokenService;
  tickets: TicketStore;
  auth: Authenticator;
  sender: MessageSender;
  memberships: MembershipLog;
  /** Who may send where, as sends check it; a leave through this gateway forgets the user's entry. */
  memberCache: MembershipCache;
  typing: TypingNotifier;
  hub: Hub;
  connections: ConnectionRegistry;
  presence: { isOnline(userId: string): boolean };
  /** What every stream's session needs, whatever its transport. */
  sessionDeps: SessionDeps;
  metrics: GatewayMetrics;
  /** The HTTP routes' rate limits (per user, and per address for the login). */
  limits: RequestLimits;
  /** Signs the user out on every gateway: their tokens issued until now are void, and their streams of them end. */
  signOut(userId: string): Promise<void>;
  /** False from the start of a drain: new streams are refused. */
  isAccepting(): boolean;
}
