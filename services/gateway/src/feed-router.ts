import type { FeedRecord, MembershipRecord, PresenceRecord, RoomEventRecord } from '@chat/kafka';
import type { UserRef } from '@chat/protocol';
import type { Logger } from '@chat/runtime';
import type { RoomStore } from './ports/room-store';
import type { Hub } from './session/hub';

export interface FeedRouterDeps {
  hub: Hub;
  /** Who may send where; a member who left must be forgotten at once. */
  memberCache: { forget(roomId: string, userId: string): void };
  store: Pick<RoomStore, 'roomIdsOf'>;
  /** Who is online now, as this gateway's presence view has it. */
  presence: { onlineUser(userId: string): UserRef | undefined };
  /** Each log entry's age on arrival (the delivery latency metric). */
  observeDelivery(sentAt: string | undefined): void;
  logger: Logger;
}

/**
 * What each record of the event feed and of the presence view means on this gateway, one method per kind: which
 * local streams it reaches, and what else it changes here (the membership cache, presence announcements). The
 * adapters that read Kafka hand records here and know nothing of streams; the hub that holds the streams knows
 * nothing of record kinds.
 */
export class FeedRouter {
  constructor(private readonly deps: FeedRouterDeps) {}

  /** The event feed's one entry point; returns how many local streams the record reached. */
  route(record: FeedRecord): number {
    switch (record.kind) {
      case 'entry':
        return this.entry(record);
      case 'member_joined':
        return this.memberJoined(record);
      case 'member_left':
        return this.memberLeft(record);
      case 'typing':
        return this.deps.hub.broadcast({ type: 'typing', room: record.room, userId: record.userId, json: record.json });
    }
  }

  entry(record: RoomEventRecord): number {
    this.deps.observeDelivery(record.sentAt);
    return this.deps.hub.deliver(record);
  }

  /**
   * The user's all-rooms streams add the room. Someone online who joins a room is news to its members (online
   * there), though no status changed and so no presence record says it.
   */
  memberJoined(record: MembershipRecord): number {
    const reached = this.deps.hub.memberJoined(record.userId, record.room, record.lastSeq);
    this.announce(record.room, record.userId, 'online');
    return reached;
  }

  /** The user's streams drop the room, sends to it are checked again, and its members see them go (offline there). */
  memberLeft(record: Omit<MembershipRecord, 'lastSeq'>): number {
    this.deps.memberCache.forget(record.room, record.userId);
    const reached = this.deps.hub.memberLeft(record.userId, record.room);
    this.announce(record.room, record.userId, 'offline');
    return reached;
  }

  /**
   * A user's status changed: one presence event per room of theirs that has streams here, serialised once per
   * room. Postgres down or its pool saturated: this change is not shown here, and the next one of the user is.
   */
  presenceChanged(record: PresenceRecord): void {
    this.fanOutPresence(record).catch((error: unknown) =>
      this.deps.logger.warn({ err: error, user: record.user.id }, 'presence fan-out failed'),
    );
  }

  private async fanOutPresence(record: PresenceRecord): Promise<void> {
    const { hub, store } = this.deps;
    // Reading the whole status table at start-up must not cost a query per user while nobody is connected.
    if (hub.roomCount === 0) return;
    const rooms = (await store.roomIdsOf(record.user.id)).filter((room) => hub.hasListeners(room));
    for (const room of rooms) this.broadcastPresence(room, record.user, record.status);
  }

  private announce(room: string, userId: string, status: PresenceRecord['status']): void {
    const user = this.deps.presence.onlineUser(userId);
    if (user && this.deps.hub.hasListeners(room)) this.broadcastPresence(room, user, status);
  }

  private broadcastPresence(room: string, user: UserRef, status: PresenceRecord['status']): void {
    this.deps.hub.broadcast({ type: 'presence', room, userId: user.id, json: JSON.stringify({ type: 'presence', room, user, status }) });
  }
}
