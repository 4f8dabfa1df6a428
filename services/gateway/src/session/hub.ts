import type { RoomEventRecord } from '@chat/kafka';

export interface RoomListener {
  onRoomEvent(record: RoomEventRecord): void;
  /** Typing and other events that are not part of the room log: no seq, not replayed. */
  onEphemeral(record: EphemeralEvent): void;
}

/** An event outside the room log (typing, presence): no seq, never replayed. */
export interface EphemeralEvent {
  type: 'typing' | 'presence';
  room: string;
  /** Whom it is about. */
  userId: string;
  json: string;
}

/**
 * A user's streams, told of their joins (and of an earlier release's leaves). A stream that covers a room learns of
 * the user's joins and leaves there from the room's own entries, in seq order; these reach the streams that do not.
 */
export interface MembershipListener {
  /** The user joined a room at seq `after + 1`: streams that cover all their rooms add it, starting after `after`. */
  onMemberJoined(room: string, after: number): void;
  /** An earlier release's leave, which is no entry of the log: no stream of the user gets the room's events any more. */
  onMemberLeft(room: string): void;
}

function addTo<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  let values = index.get(key);
  if (!values) {
    values = new Set();
    index.set(key, values);
  }
  values.add(value);
}

function removeFrom<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  const values = index.get(key);
  if (!values) return;
  values.delete(value);
  if (values.size === 0) index.delete(key);
}

/**
 * Who on this gateway listens to which room, and to which user's memberships. Knows nothing of transports, nor of
 * the feed's record kinds: the feed router decides what each record means and calls the method for it.
 */
export class Hub {
  private readonly rooms = new Map<string, Set<RoomListener>>();
  private readonly members = new Map<string, Set<MembershipListener>>();

  add(room: string, listener: RoomListener): void {
    addTo(this.rooms, room, listener);
  }

  remove(room: string, listener: RoomListener): void {
    removeFrom(this.rooms, room, listener);
  }

  watchMemberships(userId: string, listener: MembershipListener): void {
    addTo(this.members, userId, listener);
  }

  unwatchMemberships(userId: string, listener: MembershipListener): void {
    removeFrom(this.members, userId, listener);
  }

  /** Hands one log entry, parsed once, to every local listener of its room; returns how many that was. */
  deliver(record: RoomEventRecord): number {
    const listeners = this.rooms.get(record.room);
    if (listeners) for (const listener of listeners) listener.onRoomEvent(record);
    return listeners?.size ?? 0;
  }

  /** Tells the user's local streams that they joined `room` after seq `after`; returns how many streams were told. */
  memberJoined(userId: string, room: string, after: number): number {
    const listeners = this.members.get(userId);
    if (listeners) for (const listener of listeners) listener.onMemberJoined(room, after);
    return listeners?.size ?? 0;
  }

  /** Tells the user's local streams that they left `room`; returns how many streams were told. */
  memberLeft(userId: string, room: string): number {
    const listeners = this.members.get(userId);
    if (listeners) for (const listener of listeners) listener.onMemberLeft(room);
    return listeners?.size ?? 0;
  }

  /** Hands an event outside the log to every local listener of its room; returns how many that was. */
  broadcast(event: EphemeralEvent): number {
    const listeners = this.rooms.get(event.room);
    if (listeners) for (const listener of listeners) listener.onEphemeral(event);
    return listeners?.size ?? 0;
  }

  hasListeners(room: string): boolean {
    return this.rooms.has(room);
  }

  get roomCount(): number {
    return this.rooms.size;
  }
}
