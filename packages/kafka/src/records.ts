import type { RoomLogEntry, TypingEvent, UserRef } from '@chat/protocol';

export type LogEntryKind = RoomLogEntry['type'];
const LOG_ENTRY_KINDS: readonly string[] = ['message', 'message_edited', 'message_deleted'] satisfies LogEntryKind[];

/** A send, edit or delete accepted by a gateway, waiting for the messaging service to give it a seq. */
export interface SendCommand {
  v: 1;
  /** Absent means 'message'. */
  kind?: LogEntryKind;
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
      (command.kind !== undefined && !LOG_ENTRY_KINDS.includes(command.kind)) ||
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
}

export function encodeLogEntry(event: RoomLogEntry): Buffer {
  return Buffer.from(JSON.stringify(event));
}

/**
 * An internal chat.events record: a user joined a room. Gateways add the room
 * to that user's open streams that cover all their rooms. Never sent to clients.
 */
export interface MembershipRecord {
  room: string;
  userId: string;
  /** The room's last seq when the user joined: streams start the room after it. */
  lastSeq: number;
}

export type FeedRecord =
  | ({ kind: 'entry' } & RoomEventRecord)
  | ({ kind: 'member_joined' } & MembershipRecord)
  | ({ kind: 'member_left' } & Omit<MembershipRecord, 'lastSeq'>)
  | { kind: 'typing'; room: string; userId: string; json: string };

/** A typing indicator: ephemeral, never stored, delivered to the room's other members. */
export function encodeTyping(event: TypingEvent): Buffer {
  return Buffer.from(JSON.stringify(event));
}

export function encodeMemberJoined(record: MembershipRecord): Buffer {
  return Buffer.from(JSON.stringify({ type: 'member_joined', ...record }));
}

export function encodeMemberLeft(record: Omit<MembershipRecord, 'lastSeq'>): Buffer {
  return Buffer.from(JSON.stringify({ type: 'member_left', room: record.room, userId: record.userId }));
}

/** Returns null for a record no gateway understands, so one bad record never stalls the feed. */
export function decodeFeedRecord(value: Buffer | null): FeedRecord | null {
  if (!value) return null;
  try {
    const json = value.toString('utf8');
    const event = JSON.parse(json) as { type?: unknown; room?: unknown; seq?: unknown; userId?: unknown; lastSeq?: unknown; sentAt?: unknown };
    if (typeof event.room !== 'string') return null;
    if (typeof event.type === 'string' && LOG_ENTRY_KINDS.includes(event.type) && Number.isSafeInteger(event.seq)) {
      const sentAt = typeof event.sentAt === 'string' ? event.sentAt : undefined;
      return { kind: 'entry', type: event.type as LogEntryKind, room: event.room, seq: event.seq as number, sentAt, json };
    }
    if (event.type === 'member_joined' && typeof event.userId === 'string' && Number.isSafeInteger(event.lastSeq)) {
      return { kind: 'member_joined', room: event.room, userId: event.userId, lastSeq: event.lastSeq as number };
    }
    if (event.type === 'member_left' && typeof event.userId === 'string') {
      return { kind: 'member_left', room: event.room, userId: event.userId };
    }
    const user = (event as { user?: { id?: unknown } }).user;
    if (event.type === 'typing' && typeof user?.id === 'string') {
      return { kind: 'typing', room: event.room, userId: user.id, json };
    }
    return null;
  } catch {
    return null;
  }
}
