/** Wire types of the public contract. See docs/protocol.md. */

export interface UserRef {
  id: string;
  name: string;
}

export interface Room {
  id: string;
  name: string;
}

export interface RoomSummary extends Room {
  kind: 'group' | 'dm';
  lastSeq: number;
  /** Log entries after the caller's read position. */
  unread: number;
}

export interface Message {
  room: string;
  seq: number;
  id: string;
  clientMsgId: string;
  sender: UserRef;
  text: string;
  sentAt: string;
  /** Set once the message was edited; `text` is then the latest text. */
  editedAt?: string;
  /** Set once the message was deleted; `text` is then empty. */
  deleted?: true;
}

export interface MessageEvent extends Message {
  type: 'message';
}

/** What every entry of a room's log carries. */
interface LogEntryBase {
  room: string;
  seq: number;
  id: string;
  clientMsgId: string;
  sender: UserRef;
  sentAt: string;
}

/** An edit: a later entry of the room's log, with a seq of its own, naming the edited message's seq. */
export interface MessageEditedEvent extends LogEntryBase {
  type: 'message_edited';
  target: number;
  text: string;
}

export interface MessageDeletedEvent extends LogEntryBase {
  type: 'message_deleted';
  target: number;
}

/** What occupies one seq of a room: history returns these, streams deliver them. */
export type RoomLogEntry = MessageEvent | MessageEditedEvent | MessageDeletedEvent;

export interface PresenceEvent {
  type: 'presence';
  room: string;
  user: UserRef;
  status: 'online' | 'offline';
}

export interface TypingEvent {
  type: 'typing';
  room: string;
  user: UserRef;
}

export type Event = RoomLogEntry | PresenceEvent | TypingEvent;

/** Every event on a stream carries the stream position after it. */
export type StreamEvent = Event & { cursor: string };

/** Opens every stream (docs/protocol.md §6): its cursor holds each room of the stream at its starting position. */
export interface ReadyEvent {
  type: 'ready';
  cursor: string;
}

export interface AckFrame {
  type: 'ack';
  clientMsgId: string;
}

export interface ErrorFrame {
  type: 'error';
  code: ErrorCode;
  message: string;
  clientMsgId?: string;
}

export interface PongFrame {
  type: 'pong';
}

export type ServerFrame = StreamEvent | AckFrame | ErrorFrame | PongFrame;

export interface SendFrame {
  type: 'send';
  room: string;
  clientMsgId: string;
  text: string;
}

export interface SubscriptionFrame {
  type: 'subscribe' | 'unsubscribe';
  rooms: string[];
}

export interface TypingFrame {
  type: 'typing';
  room: string;
}

export interface PingFrame {
  type: 'ping';
}

export interface EditFrame {
  type: 'edit';
  room: string;
  target: number;
  clientMsgId: string;
  text: string;
}

export interface DeleteFrame {
  type: 'delete';
  room: string;
  target: number;
  clientMsgId: string;
}

export type ClientFrame = SendFrame | SubscriptionFrame | TypingFrame | PingFrame | EditFrame | DeleteFrame;

export type ErrorCode =
  | 'invalid_input'
  | 'invalid_cursor'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'too_large'
  | 'rate_limited'
  | 'unavailable'
  | 'internal';

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}
