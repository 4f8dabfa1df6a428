import type { FeedRecord, PresenceRecord, RoomEventRecord } from '@chat/kafka';
import type { MembershipEvent, UserRef } from '@chat/protocol';
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
  /** A user signed out (on any gateway): their older tokens are void here too, and their streams of them end. */
  signOuts: { record(signOut: { userId: string; at: number }): void };
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
      case 'legacy_member_joined':
        return this.legacyMemberJoined(record.room, record.userId, record.lastSeq);
      case 'legacy_member_left':
        return this.legacyMemberLeft(record.room, record.userId);
      case 'typing':
        return this.deps.hub.broadcast({ type: 'typing', room: record.room, userId: record.userId, json: record.json });
      case 'signed_out':
        this.deps.signOuts.record(record);
        return 0;
    }
  }

  /**
   * A log entry reaches the room's streams, which act on their own user's joins and leaves in seq order. A leave also
   * makes sends to the room checked again; a join reaches the user's all-rooms streams that do not cover the room
   * yet. Someone online who joins or leaves a room is news to its members (online or offline there), though no status
   * changed and so no presence record says it.
   */
  entry(record: RoomEventRecord): number {
    this.deps.observeDelivery(record.sentAt);
    const { room, userId } = record;
    // A leave makes sends checked again; a join lets a refusal remembered a moment ago go.
    if (record.type === 'member_left' || record.type === 'member_joined') this.deps.memberCache.forget(room, userId!);
    const reached = this.deps.hub.deliver(record);
    if (record.type === 'member_joined') {
      this.deps.hub.memberJoined(userId!, room, record.seq - 1);
      this.announce(room, userId!, 'online');
    } else if (record.type === 'member_left') {
      this.announce(room, userId!, 'offline');
    }
    return reached;
  }

  /**
   * A join or leave that a stream here read from Postgres to fill a hole: its record may never reach this gateway (its
   * publish was lost), so what the feed's record would change here changes now. Said twice, it changes nothing more.
   * Not announced: the members who see the entry late see it in the room itself.
   */
  membershipRead(entry: MembershipEvent): void {
    this.deps.memberCache.forget(entry.room, entry.user.id);
    if (entry.type === 'member_joined') this.deps.hub.memberJoined(entry.user.id, entry.room, entry.seq - 1);
  }

  /** An earlier release's join, outside the log (a rolling upgrade): as an entry's, without the entry. */
  private legacyMemberJoined(room: string, userId: string, lastSeq: number): number {
    this.deps.memberCache.forget(room, userId);
    const reached = this.deps.hub.memberJoined(userId, room, lastSeq);
    this.announce(room, userId, 'online');
    return reached;
  }

  /** An earlier release's leave: the user's streams drop the room at once, having no seq to stop it at. */
  private legacyMemberLeft(room: string, userId: string): number {
    this.deps.memberCache.forget(room, userId);
    const reached = this.deps.hub.memberLeft(userId, room);
    this.announce(room, userId, 'offline');
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
