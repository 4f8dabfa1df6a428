import type { MemberJoinedEvent, MemberLeftEvent, Room, RoomLogEntry, RoomSummary, UserRef } from '@chat/protocol';
import type { RoomAccess } from './access';

/** Users, rooms, membership and history as the gateway needs them. */
export interface RoomStore {
  /** The development login's user of that login name, created on first use. */
  upsertUser(login: string): Promise<UserRef>;
  /** Records a user known from a verified token, so that rooms can reference it. */
  ensureUser(user: UserRef): Promise<void>;
  /**
   * Membership changes are entries of the room's log, stored with the change: each returns the entries it made, for
   * the caller to publish (a lost publish still leaves them in the log, where every stream meets them).
   */
  createRoom(name: string, creator: UserRef): Promise<{ room: Room; joined: MemberJoinedEvent }>;
  /** Idempotent; null for an unknown room. `joined` is null when nothing changed (already a member, a direct room). */
  joinRoom(roomId: string, user: UserRef): Promise<{ room: Room; kind: 'group' | 'dm'; joined: MemberJoinedEvent | null } | null>;
  /** Idempotent; null when the user was not a member (or the room is unknown). */
  leaveRoom(roomId: string, user: UserRef): Promise<MemberLeftEvent | null>;
  /**
   * The two-member room of these users, created on first use (`created` tells which), with whichever of the two is
   * not a member (again) added: `joined` holds their entries.
   */
  openDirectRoom(user: UserRef, otherId: string): Promise<{ room: Room; created: boolean; joined: MemberJoinedEvent[] } | null>;
  /** Moves the user's read position forward (never back, never past the room's last seq). */
  markRead(roomId: string, userId: string, seq: number): Promise<{ lastReadSeq: number; unread: number }>;
  /** The author of a room's message and whether it is deleted; null when that seq is not a message. */
  messageTarget(roomId: string, seq: number): Promise<{ senderId: string; deleted: boolean } | null>;
  listRooms(userId: string): Promise<RoomSummary[]>;
  roomIdsOf(userId: string): Promise<string[]>;
  members(roomId: string): Promise<UserRef[]>;
  /** Membership and the room's last seq in one read. */
  access(roomId: string, userId: string): Promise<RoomAccess>;
  /**
   * The same for many rooms in one read (a stream or a subscribe frame names up to 1,024): by room id as given
   * (lower case, as every id is once it has entered), and `no_room` for ids that are not rooms.
   */
  accessMany(roomIds: readonly string[], userId: string): Promise<Map<string, RoomAccess>>;
  /** Each room's last seq, in one read; rooms that do not exist are left out. */
  lastSeqs(roomIds: readonly string[]): Promise<Map<string, number>>;
  messagesAfter(roomId: string, after: number, limit: number): Promise<RoomLogEntry[]>;
  /** Up to `limitPerRoom` entries after each position, in one query, ascending per room. */
  messagesAfterMany(positions: ReadonlyArray<readonly [string, number]>, limitPerRoom: number): Promise<RoomLogEntry[]>;
  messagesBefore(roomId: string, before: number, limit: number): Promise<RoomLogEntry[]>;
  latestMessages(roomId: string, limit: number): Promise<RoomLogEntry[]>;
}
