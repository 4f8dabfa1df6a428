import { isUuid, type MembershipEvent, type RoomLogEntry, type TypingEvent, type UserRef } from '@chat/protocol';

export type LogEntryKind = RoomLogEntry['type'];
const MEMBERSHIP_KINDS: readonly string[] = ['member_joined', 'member_left'] satisfies MembershipEvent['type'][];
/** What a command may ask for: gateways store membership entries themselves, never through chat.messages. */
export type CommandKind = Exclude<LogEntryKind, MembershipEvent['type']>;
const COMMAND_KINDS: readonly string[] = ['message', 'message_edited', 'message_deleted'] satisfies CommandKind[];
const LOG_ENTRY_KINDS: readonly string[] = [...COMMAND_KINDS, ...MEMBERSHIP_KINDS];

/** A send, edit or delete accepted by a gateway, waiting for the messaging service to give it a seq. */
export interface SendCommand {
  v: 1;
  /** Absent means 'message'. */
  kind?: CommandKind;
  room: string;
  clientMsgId: string;
  /** The new text of an edit; empty for a delete. */
  text: string;
  /** The seq of the message an edit or delete applies to. */
  target?: number;
  sender: UserRef;
  /** When the gateway accepted it: the start of end-to-end latency. */
  acceptedAt: string;
}

export function encodeSendCommand(command: SendCommand): Buffer {
  return Buffer.from(JSON.stringify(command));
}

/** Returns null for a record that is not a valid command, so one bad record never blocks a partition. */
export function decodeSendCommand(value: Buffer | null): SendCommand | null {
  if (!value) return null;
  try {
    const command = JSON.parse(value.toString('utf8')) as Partial<SendCommand>;
    if (
      command.v !== 1 ||
      typeof command.room !== 'string' ||
      typeof command.clientMsgId !== 'string' ||
      typeof command.text !== 'string' ||
      typeof command.sender?.id !== 'string' ||
      typeof command.sender?.name !== 'string' ||
      typeof command.acceptedAt !== 'string' ||
      Number.isNaN(Date.parse(command.acceptedAt)) ||
      (command.kind !== undefined && !COMMAND_KINDS.includes(command.kind)) ||
      ((command.kind ?? 'message') !== 'message' && !(Number.isSafeInteger(command.target) && command.target! > 0))
    ) {
      return null;
    }
    return command as SendCommand;
  } catch {
    return null;
  }
}

/**
 * A chat.events record: the value is the event exactly as clients receive it
 * (without the per-connection cursor), so gateways forward it without
 * re-serialising.
 */
export interface RoomEventRecord {
  type: LogEntryKind;
  room: string;
  seq: number;
  /** When the gateway accepted it: the start of delivery latency. */
  sentAt?: string;
  /** The event's JSON text, as delivered to clients. */
  json: string;
  /** Whom a membership entry is about; absent for every other kind. */
  userId?: string;
}

export function encodeLogEntry(event: RoomLogEntry): Buffer {
  return Buffer.from(JSON.stringify(event));
}

/**
 * The chat.events record that gateways of earlier releases publish for a join or leave, outside the room's log (its
 * Kafka publish was the only word of it). Decoded so that a rolling upgrade loses none of theirs; nothing publishes
 * it any more, and the release after this one drops it. Never sent to clients.
 */
export interface LegacyMembershipRecord {
  room: string;
  userId: string;
  /** The room's last seq when the user joined: streams start the room after it. */
  lastSeq: number;
}

export type FeedRecord =
  | ({ kind: 'entry' } & RoomEventRecord)
  | ({ kind: 'legacy_member_joined' } & LegacyMembershipRecord)
  | ({ kind: 'legacy_member_left' } & Omit<LegacyMembershipRecord, 'lastSeq'>)
  | { kind: 'typing'; room: string; userId: string; json: string }
  | ({ kind: 'signed_out' } & SignOutRecord);

/** A user signed out at `at` (epoch ms): every gateway ends the streams of their tokens issued before it. */
export interface SignOutRecord {
  userId: string;
  at: number;
}

/** Keyed by the user; no room (a gateway of an earlier release skips it, as a record it cannot read). */
export function encodeSignOut(record: SignOutRecord): Buffer {
  return Buffer.from(JSON.stringify({ type: 'signed_out', userId: record.userId, at: record.at }));
}

/** A typing indicator: ephemeral, never stored, delivered to the room's other members. */
export function encodeTyping(event: TypingEvent): Buffer {
  return Buffer.from(JSON.stringify(event));
}

/** Returns null for a record no gateway understands, so one bad record never stalls the feed. */
export function decodeFeedRecord(value: Buffer | null): FeedRecord | null {
  if (!value) return null;
  try {
    const json = value.toString('utf8');
    const event = JSON.parse(json) as {
      type?: unknown;
      room?: unknown;
      seq?: unknown;
      userId?: unknown;
      user?: { id?: unknown; name?: unknown };
      lastSeq?: unknown;
      sentAt?: unknown;
    };
    if (event.type === 'signed_out') {
      const at = (event as { at?: unknown }).at;
      return typeof event.userId === 'string' && isUuid(event.userId) && typeof at === 'number' && Number.isSafeInteger(at) && at > 0
        ? { kind: 'signed_out', userId: event.userId, at }
        : null;
    }
    if (typeof event.room !== 'string') return null;
    const user = event.user;
    if (typeof event.type === 'string' && LOG_ENTRY_KINDS.includes(event.type) && Number.isSafeInteger(event.seq) && (event.seq as number) > 0) {
      const sentAt = typeof event.sentAt === 'string' ? event.sentAt : undefined;
      const entry = { kind: 'entry', type: event.type as LogEntryKind, room: event.room, seq: event.seq as number, sentAt, json } as const;
      if (!MEMBERSHIP_KINDS.includes(event.type)) return entry;
      return typeof user?.id === 'string' && typeof user.name === 'string' ? { ...entry, userId: user.id } : null;
    }
    // An earlier release's records have no seq, and say whom they are about in `userId`.
    if (event.type === 'member_joined' && typeof event.userId === 'string' && Number.isSafeInteger(event.lastSeq)) {
      return { kind: 'legacy_member_joined', room: event.room, userId: event.userId, lastSeq: event.lastSeq as number };
    }
    if (event.type === 'member_left' && typeof event.userId === 'string') {
      return { kind: 'legacy_member_left', room: event.room, userId: event.userId };
    }
    if (event.type === 'typing' && typeof user?.id === 'string') {
      return { kind: 'typing', room: event.room, userId: user.id, json };
    }
    return null;
  } catch {
    return null;
  }
}
