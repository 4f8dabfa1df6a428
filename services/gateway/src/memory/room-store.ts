import { randomUUID } from 'node:crypto';
import { decodeFeedRecord, encodeLogEntry, type RoomEventRecord } from '@chat/kafka';
import { ClientError } from '@chat/runtime';
import type { MemberJoinedEvent, MemberLeftEvent, MembershipEvent, MessageEvent, Room, RoomLogEntry, RoomSummary, UserRef } from '@chat/protocol';
import type { RoomAccess } from '../ports/access';
import type { RoomStore } from '../ports/room-store';

interface MemoryRoom extends Room {
  kind: 'group' | 'dm';
  lastSeq: number;
  /** Member → read position. */
  members: Map<string, number>;
  log: RoomLogEntry[];
}

/**
 * The RoomStore in memory, for tests of the gateway core without Postgres (compare centrifuge's broker_memory.go):
 * the same answers as PgRoomStore for the same calls, and handles a test needs to make history misbehave — rows
 * that are missing, reads that wait until released, reads that fail.
 */
export class MemoryRoomStore implements RoomStore {
  private readonly users = new Map<string, UserRef>();
  private readonly logins = new Map<string, string>();
  private readonly rooms = new Map<string, MemoryRoom>();
  private readonly dms = new Map<string, string>();
  private held: Array<() => void> | undefined;
  private failures: Error[] = [];
  /** How many history reads the catch-up path made (`messagesAfterMany`). */
  catchUpReads = 0;
  /** How many reads of rooms' last seqs the tail check made (`lastSeqs`). */
  lastSeqReads = 0;

  // ---- test handles ----

  /** A room with these members and an empty log (createRoom, as the API does, logs the creator's join). */
  addRoom(name: string, memberIds: readonly string[], kind: 'group' | 'dm' = 'group'): Room {
    const room: MemoryRoom = { id: randomUUID(), name, kind, lastSeq: 0, members: new Map(memberIds.map((id) => [id, 0])), log: [] };
    this.rooms.set(room.id, room);
    return { id: room.id, name };
  }

  /** Stores the room's next message, as messaging would; returns the feed record gateways then receive. */
  appendMessage(roomId: string, sender: UserRef, text = 'hi'): RoomEventRecord {
    const room = this.room(roomId);
    const seq = ++room.lastSeq;
    const entry: MessageEvent = {
      type: 'message',
      room: roomId,
      seq,
      id: randomUUID(),
      clientMsgId: `m${seq}`,
      sender,
      text,
      sentAt: new Date(0).toISOString(),
    };
    room.log.push(entry);
    return feedRecord(entry);
  }

  /** Joins or leaves as the API does (the entry is stored with the change); the feed record gateways then receive, or null. */
  changeMembership(roomId: string, user: UserRef, kind: MembershipEvent['type']): RoomEventRecord | null {
    const entry = this.membershipChanged(this.room(roomId), user, kind);
    return entry && feedRecord(entry);
  }

  /** Removes a stored row: the seq stays taken, so history has a hole there. */
  lose(roomId: string, seq: number): void {
    const room = this.room(roomId);
    room.log = room.log.filter((entry) => entry.seq !== seq);
  }

  /** History reads wait from now until the returned function is called. */
  hold(): () => void {
    const waiting: Array<() => void> = (this.held ??= []);
    return () => {
      if (this.held === waiting) this.held = undefined;
      for (const resume of waiting.splice(0)) resume();
    };
  }

  /** The next history read fails with `error`. */
  failNextRead(error = new Error('connection terminated')): void {
    this.failures.push(error);
  }

  // ---- RoomStore ----

  async upsertUser(login: string): Promise<UserRef> {
    const id = this.logins.get(login) ?? randomUUID();
    this.logins.set(login, id);
    const user = this.users.get(id) ?? { id, name: login };
    this.users.set(id, user);
    return user;
  }

  async ensureUser(user: UserRef): Promise<void> {
    if (!this.users.has(user.id)) this.users.set(user.id, user);
  }

  async createRoom(name: string, creator: UserRef): Promise<{ room: Room; joined: MemberJoinedEvent }> {
    const room = this.addRoom(name, []);
    return { room, joined: this.membershipChanged(this.room(room.id), creator, 'member_joined')! };
  }

  async joinRoom(roomId: string, user: UserRef): Promise<{ room: Room; kind: 'group' | 'dm'; joined: MemberJoinedEvent | null } | null> {
    const room = this.rooms.get(roomId);
    if (!room) return null;
    const joined = room.kind === 'group' ? this.membershipChanged(room, user, 'member_joined') : null;
    return { room: { id: room.id, name: room.name }, kind: room.kind, joined };
  }

  async leaveRoom(roomId: string, user: UserRef): Promise<MemberLeftEvent | null> {
    const room = this.rooms.get(roomId);
    return room ? this.membershipChanged(room, user, 'member_left') : null;
  }

  async openDirectRoom(user: UserRef, otherId: string): Promise<{ room: Room; created: boolean; joined: MemberJoinedEvent[] } | null> {
    const other = this.users.get(otherId);
    if (!other) return null;
    const key = [user.id, otherId].sort().join(':');
    const existing = this.dms.get(key);
    const created = existing === undefined;
    const room = existing !== undefined ? this.room(existing) : this.room(this.addRoom([user.name, other.name].sort().join(', '), [], 'dm').id);
    this.dms.set(key, room.id);
    const joined = [user, other].map((person) => this.membershipChanged(room, person, 'member_joined')).filter((entry) => entry !== null);
    return { room: { id: room.id, name: room.name }, created, joined };
  }

  async markRead(roomId: string, userId: string, seq: number): Promise<{ lastReadSeq: number; unread: number }> {
    const room = this.rooms.get(roomId);
    const read = room?.members.get(userId);
    if (!room || read === undefined) throw new ClientError('forbidden', `not a member of room ${roomId}`);
    const lastReadSeq = Math.max(read, Math.min(seq, room.lastSeq));
    room.members.set(userId, lastReadSeq);
    return { lastReadSeq, unread: room.lastSeq - lastReadSeq };
  }

  async messageTarget(roomId: string, seq: number): Promise<{ senderId: string; deleted: boolean } | null> {
    const entry = this.rooms.get(roomId)?.log.find((candidate) => candidate.seq === seq);
    return entry?.type === 'message' ? { senderId: entry.sender.id, deleted: entry.deleted === true } : null;
  }

  async listRooms(userId: string): Promise<RoomSummary[]> {
    return [...this.rooms.values()]
      .filter((room) => room.members.has(userId))
      .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id))
      .map((room) => ({ id: room.id, name: room.name, kind: room.kind, lastSeq: room.lastSeq, unread: room.lastSeq - room.members.get(userId)! }));
  }

  async roomIdsOf(userId: string): Promise<string[]> {
    return [...this.rooms.values()].filter((room) => room.members.has(userId)).map((room) => room.id);
  }

  async members(roomId: string): Promise<UserRef[]> {
    const ids = [...(this.rooms.get(roomId)?.members.keys() ?? [])];
    return ids.map((id) => this.users.get(id) ?? { id, name: id }).sort((a, b) => a.name.localeCompare(b.name));
  }

  async access(roomId: string, userId: string): Promise<RoomAccess> {
    return (await this.accessMany([roomId], userId)).get(roomId)!;
  }

  async accessMany(roomIds: readonly string[], userId: string): Promise<Map<string, RoomAccess>> {
    return new Map(
      roomIds.map((id): [string, RoomAccess] => {
        const room = this.rooms.get(id);
        if (!room) return [id, { membership: 'no_room', lastSeq: 0 }];
        return [id, { membership: room.members.has(userId) ? 'member' : 'not_member', lastSeq: room.lastSeq }];
      }),
    );
  }

  async lastSeqs(roomIds: readonly string[]): Promise<Map<string, number>> {
    this.lastSeqReads++;
    const found = roomIds.flatMap((id): Array<[string, number]> => {
      const room = this.rooms.get(id);
      return room ? [[id, room.lastSeq]] : [];
    });
    return new Map(found);
  }

  async messagesAfter(roomId: string, after: number, limit: number): Promise<RoomLogEntry[]> {
    return (this.rooms.get(roomId)?.log ?? []).filter((entry) => entry.seq > after).slice(0, limit);
  }

  async messagesAfterMany(positions: ReadonlyArray<readonly [string, number]>, limitPerRoom: number): Promise<RoomLogEntry[]> {
    this.catchUpReads++;
    const failure = this.failures.shift();
    if (this.held) await new Promise<void>((resume) => this.held!.push(resume));
    if (failure) throw failure;
    const pages = await Promise.all(positions.map(([room, after]) => this.messagesAfter(room, after, limitPerRoom)));
    return pages.flat().sort((a, b) => a.room.localeCompare(b.room) || a.seq - b.seq);
  }

  async messagesBefore(roomId: string, before: number, limit: number): Promise<RoomLogEntry[]> {
    return (this.rooms.get(roomId)?.log ?? []).filter((entry) => entry.seq < before).slice(-limit);
  }

  latestMessages(roomId: string, limit: number): Promise<RoomLogEntry[]> {
    return this.messagesBefore(roomId, Number.MAX_SAFE_INTEGER, limit);
  }

  /** As the function change_membership does (migration 0006): the change, and when it changed anything, its entry. */
  private membershipChanged<K extends MembershipEvent['type']>(room: MemoryRoom, user: UserRef, kind: K): Extract<MembershipEvent, { type: K }> | null {
    const changed = kind === 'member_joined' ? !room.members.has(user.id) : room.members.delete(user.id);
    if (!changed) return null;
    const seq = ++room.lastSeq;
    if (kind === 'member_joined') room.members.set(user.id, seq);
    const entry = { type: kind, room: room.id, seq, user: { id: user.id, name: user.name }, sentAt: new Date(0).toISOString() };
    room.log.push(entry as RoomLogEntry);
    return entry as Extract<MembershipEvent, { type: K }>;
  }

  private room(roomId: string): MemoryRoom {
    const room = this.rooms.get(roomId);
    if (!room) throw new Error(`no room ${roomId} in this store`);
    return room;
  }
}

/** A stored entry as the event feed hands it to gateways: what decodeFeedRecord makes of its record. */
export function feedRecord(entry: RoomLogEntry): RoomEventRecord {
  const record = decodeFeedRecord(encodeLogEntry(entry));
  if (record?.kind !== 'entry') throw new Error(`not an entry of the log: ${JSON.stringify(entry)}`);
  const { kind: _kind, ...event } = record;
  return event;
}
