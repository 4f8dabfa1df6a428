import { monotonicNow } from '@chat/runtime';
import type { TransportName, UserRef } from '@chat/protocol';
import type { PresenceLog } from '../ports/presence-log';

interface Local {
  user: UserRef;
  connections: number;
  /** A long poller counts as connected between its polls until then (monotonic ms). */
  pollingUntil: number;
}

export interface ReporterSettings {
  gateway: string;
  heartbeatMs: number;
  ttlMs: number;
  /** How long after a poll answer its client still counts as connected. */
  pollGraceMs: number;
}

/**
 * Tells the presence service which users hold connections here: at once when
 * a user's first connection opens or last one closes, and for everyone every
 * heartbeat, all in one produce request per tick.
 */
export class PresenceReporter {
  private readonly local = new Map<string, Local>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly log: PresenceLog,
    private readonly settings: ReporterSettings,
    private readonly now: () => number = monotonicNow,
  ) {
    this.timer = setInterval(() => this.tick(), settings.heartbeatMs);
    this.timer.unref();
  }

  connected(user: UserRef): void {
    const local = this.local.get(user.id) ?? { user, connections: 0, pollingUntil: 0 };
    local.connections++;
    this.local.set(user.id, local);
    if (local.connections === 1 && local.pollingUntil <= this.now()) this.report(local);
  }

  disconnected(userId: string, transport: TransportName): void {
    const local = this.local.get(userId);
    if (!local) return;
    local.connections--;
    if (transport === 'poll') local.pollingUntil = this.now() + this.settings.pollGraceMs;
    if (local.connections === 0 && local.pollingUntil <= this.now()) {
      this.local.delete(userId);
      this.report(local);
    }
  }

  private tick(): void {
    const now = this.now();
    for (const [userId, local] of this.local) {
      if (local.connections === 0 && local.pollingUntil <= now) this.local.delete(userId);
      this.report(local);
    }
  }

  private report(local: Local): void {
    const connected = local.connections > 0 || local.pollingUntil > this.now();
    const record = {
      gateway: this.settings.gateway,
      user: local.user,
      connections: connected ? Math.max(1, local.connections) : 0,
      ttlMs: this.settings.ttlMs,
    };
    // Presence is advisory: a lost report is repaired by the next heartbeat.
    this.log.heartbeat(record).catch(() => undefined);
  }

  /** On shutdown: everyone here leaves now instead of after the TTL. */
  stop(): void {
    clearInterval(this.timer);
    for (const local of this.local.values()) {
      local.connections = 0;
      local.pollingUntil = 0;
      this.report(local);
    }
    this.local.clear();
  }
}
