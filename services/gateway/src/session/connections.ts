import { DISCONNECT, type Disconnect, type TransportName, type UserRef } from '@chat/protocol';
import { ClientError } from '@chat/runtime';

/** What the registry needs of a live connection, whatever its transport. */
export interface LiveConnection {
  transport: TransportName;
  user: UserRef;
  ip: string;
  /** Ends the connection as the catalog says; a drain sends `restart` (1012, end of stream, early poll answer). */
  close(disconnect: Disconnect): void;
}

export interface ConnectionLimits {
  perUser: number;
  perIp: number;
}

/** Told of every connection that opens and closes (presence reporting). */
export interface ConnectionObserver {
  connected(user: UserRef, transport: TransportName): void;
  disconnected(userId: string, transport: TransportName): void;
}

function increment(counts: Map<string, number>, key: string, by: number): void {
  const next = (counts.get(key) ?? 0) + by;
  if (next <= 0) counts.delete(key);
  else counts.set(key, next);
}

/**
 * Every open stream of this gateway: enforces the per-user and per-IP caps,
 * counts connections per transport, and drains them on shutdown.
 */
/** How a stream of a signed-out user's older token ends: as an expired token's does, saying why. */
export const SIGNED_OUT: Disconnect = { ...DISCONNECT.expired, reason: 'signed out' };

export class ConnectionRegistry {
  /** Each open connection, with when the token it was opened with was issued. */
  private readonly open = new Map<LiveConnection, number>();
  private readonly perUser = new Map<string, number>();
  private readonly perIp = new Map<string, number>();
  private idle: (() => void) | undefined;

  constructor(
    private readonly limits: ConnectionLimits,
    private readonly observer?: ConnectionObserver,
  ) {}

  /**
   * Admits a connection or refuses it (429); returns the function that releases it. `issuedAt`: when the token it
   * was opened with was issued (a sign-out ends the connections of tokens issued before it).
   */
  admit(connection: LiveConnection, issuedAt = 0): () => void {
    const userId = connection.user.id;
    if ((this.perUser.get(userId) ?? 0) >= this.limits.perUser) {
      throw new ClientError('rate_limited', `at most ${this.limits.perUser} open streams per user`, 5_000);
    }
    if ((this.perIp.get(connection.ip) ?? 0) >= this.limits.perIp) {
      throw new ClientError('rate_limited', `at most ${this.limits.perIp} open streams per address`, 5_000);
    }
    this.open.set(connection, issuedAt);
    increment(this.perUser, userId, 1);
    increment(this.perIp, connection.ip, 1);
    this.observer?.connected(connection.user, connection.transport);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open.delete(connection);
      increment(this.perUser, userId, -1);
      increment(this.perIp, connection.ip, -1);
      this.observer?.disconnected(userId, connection.transport);
      if (this.open.size === 0) this.idle?.();
    };
  }

  count(transport?: TransportName): number {
    if (!transport) return this.open.size;
    let n = 0;
    for (const connection of this.open.keys()) if (connection.transport === transport) n++;
    return n;
  }

  /** The user signed out at `at`: their connections opened with a token issued before it end (4001). Returns how many. */
  signedOut(userId: string, at: number): number {
    if (!this.perUser.has(userId)) return 0;
    let ended = 0;
    for (const [connection, issuedAt] of this.open) {
      if (connection.user.id !== userId || issuedAt >= at) continue;
      connection.close(SIGNED_OUT);
      ended++;
    }
    return ended;
  }

  /**
   * Tells every connection to go away at a random moment within `windowMs`, so
   * that their reconnects spread over the other replicas instead of arriving
   * at once. Resolves when all are gone, or after `windowMs + graceMs`.
   */
  async drain(windowMs: number, graceMs = 5_000): Promise<void> {
    if (this.open.size === 0) return;
    const timers: NodeJS.Timeout[] = [];
    for (const connection of this.open.keys()) timers.push(setTimeout(() => connection.close(DISCONNECT.restart), Math.random() * windowMs));
    await new Promise<void>((resolve) => {
      const deadline = setTimeout(resolve, windowMs + graceMs);
      this.idle = () => {
        clearTimeout(deadline);
        resolve();
      };
    });
    for (const timer of timers) clearTimeout(timer);
  }
}
