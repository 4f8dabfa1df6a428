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
  lastSeq: number;
}

export interface Message {
  room: string;
  seq: number;
  id: string;
  clientMsgId: string;
  sender: UserRef;
  text: string;
  sentAt: string;
}

export interface MessageEvent extends Message {
  type: 'message';
}

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

export type Event = MessageEvent | PresenceEvent | TypingEvent;

/** Every event on a stream carries the stream position after it. */
export type StreamEvent = Event & { cursor: string };

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

export type ClientFrame = SendFrame | SubscriptionFrame | TypingFrame | PingFrame;

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
