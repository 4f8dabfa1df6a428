import type { RoomEventRecord } from '@chat/kafka';

export interface RoomListener {
  onRoomEvent(record: RoomEventRecord): void;
  /**
   * The room's log reaches `lastSeq` in Postgres, and the feed brought this gateway less: read what is missing.
   * True when this listener was behind and reads it.
   */
  onRoomTail(room: string, lastSeq: number): boolean;
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

function removeFrom<K, V>(index: Map<K, Set<V>>, key: K, value: V): boolean {
  const values = index.get(key);
  if (!values) return false;
  values.delete(value);
  if (values.size > 0) return false;
  index.delete(key);
  return true;
}

/**
 * Who on this gateway listens to which room, and to which user's memberships. Knows nothing of transports, nor of
 * the feed's record kinds: the feed router decides what each record means and calls the method for it.
 */
export class Hub {
  private readonly rooms = new Map<string, Set<RoomListener>>();
  private readonly members = new Map<string, Set<MembershipListener>>();
  /** Per room with listeners, the highest seq the feed delivered here since its first listener came. */
  private readonly fed = new Map<string, number>();

  add(room: string, listener: RoomListener): void {
    addTo(this.rooms, room, listener);
  }

  remove(room: string, listener: RoomListener): void {
    if (removeFrom(this.rooms, room, listener)) this.fed.delete(room);
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
    if (!listeners) return 0;
    if (record.seq > (this.fed.get(record.room) ?? 0)) this.fed.set(record.room, record.seq);
    for (const listener of listeners) listener.onRoomEvent(record);
    return listeners.size;
  }

  /** The highest seq of the room the feed delivered here while it had listeners; 0 when none. */
  fedSeq(room: string): number {
    return this.fed.get(room) ?? 0;
  }

  /** Tells the room's listeners that its log reaches `lastSeq` (the tail check); returns how many were behind. */
  tail(room: string, lastSeq: number): number {
    let behind = 0;
    for (const listener of this.rooms.get(room) ?? []) if (listener.onRoomTail(room, lastSeq)) behind++;
    return behind;
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

  /** The rooms with listeners here. */
  roomIds(): string[] {
    return [...this.rooms.keys()];
  }

  hasListeners(room: string): boolean {
    return this.rooms.has(room);
  }

  get roomCount(): number {
    return this.rooms.size;
  }
}
