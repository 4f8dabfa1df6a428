import { monotonicNow } from '@chat/runtime';
import type { HeartbeatRecord, PresenceRecord } from '@chat/kafka';
import type { UserRef } from '@chat/protocol';

/** Stands in for the gateways of a user who was online before this replica started. */
const RESTORED = '(restored)';

interface UserState {
  user: UserRef;
  /** Gateway → when its last report runs out (monotonic ms). */
  gateways: Map<string, number>;
  published: PresenceRecord['status'] | undefined;
}

/**
 * Online while any gateway reports a connection of the user and that report
 * has not run out. Returns a change only when the status differs from the one
 * last published, so restarts and repeated heartbeats never flap anyone.
 */
export class PresenceTracker {
  private readonly users = new Map<string, UserState>();

  constructor(private readonly now: () => number = monotonicNow) {}

  /** After a restart: the last published status; an online user stays so for one TTL unless heartbeats say otherwise. */
  restore(record: PresenceRecord, ttlMs: number): void {
    const state = this.state(record.user);
    state.published = record.status;
    if (record.status === 'online') state.gateways.set(RESTORED, this.now() + ttlMs);
  }

  apply(heartbeat: HeartbeatRecord): PresenceRecord | null {
    const state = this.state(heartbeat.user);
    if (heartbeat.connections > 0) {
      state.gateways.set(heartbeat.gateway, this.now() + heartbeat.ttlMs);
      state.gateways.delete(RESTORED);
    } else {
      state.gateways.delete(heartbeat.gateway);
    }
    return this.change(heartbeat.user.id, state);
  }

  /** Drops reports that ran out (a gateway that died); returns the resulting changes. */
  expire(): PresenceRecord[] {
    const now = this.now();
    const changes: PresenceRecord[] = [];
    for (const [userId, state] of this.users) {
      for (const [gateway, expiresAt] of state.gateways) if (expiresAt <= now) state.gateways.delete(gateway);
      const change = this.change(userId, state);
      if (change) changes.push(change);
    }
    return changes;
  }

  get size(): number {
    return this.users.size;
  }

  get onlineCount(): number {
    let online = 0;
    for (const state of this.users.values()) if (state.gateways.size > 0) online++;
    return online;
  }

  private state(user: UserRef): UserState {
    let state = this.users.get(user.id);
    if (!state) {
      state = { user, gateways: new Map(), published: undefined };
      this.users.set(user.id, state);
    }
    return state;
  }

  private change(userId: string, state: UserState): PresenceRecord | null {
    const status = state.gateways.size > 0 ? 'online' : 'offline';
    // An offline user with nothing to remember is forgotten: the map holds online users and recent leavers only.
    if (status === 'offline' && state.published !== 'online') {
      this.users.delete(userId);
      return null;
    }
    if (status === state.published) return null;
    state.published = status;
    if (status === 'offline') this.users.delete(userId);
    return { user: state.user, status };
  }
}
