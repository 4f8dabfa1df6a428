/**
 * Wire types of the public contract (docs/protocol.md): what the server sends, each as a TypeBox schema and its
 * type as that schema's Static, so that every shape is written once. The server builds these objects itself and
 * validates none of them, so the schemas allow unknown fields: the contract only ever adds fields.
 */
import { Type, type Static } from '@sinclair/typebox';

/** The contract's three stream transports (§3). */
export type TransportName = 'websocket' | 'sse' | 'poll';

export const ErrorCodeSchema = Type.Union([
  Type.Literal('invalid_input'),
  Type.Literal('invalid_cursor'),
  Type.Literal('unauthenticated'),
  Type.Literal('forbidden'),
  Type.Literal('not_found'),
  Type.Literal('too_large'),
  Type.Literal('rate_limited'),
  Type.Literal('unavailable'),
  Type.Literal('internal'),
]);
export type ErrorCode = Static<typeof ErrorCodeSchema>;

export const UserRefSchema = Type.Object({ id: Type.String(), name: Type.String() });
export type UserRef = Static<typeof UserRefSchema>;

export const RoomSchema = Type.Object({ id: Type.String(), name: Type.String() });
export type Room = Static<typeof RoomSchema>;

export const RoomSummarySchema = Type.Object({
  ...RoomSchema.properties,
  kind: Type.Union([Type.Literal('group'), Type.Literal('dm')]),
  lastSeq: Type.Integer(),
  /** Log entries after the caller's read position. */
  unread: Type.Integer(),
});
export type RoomSummary = Static<typeof RoomSummarySchema>;

/** What every entry of a room's log carries. */
const logEntry = {
  room: Type.String(),
  seq: Type.Integer(),
  id: Type.String(),
  clientMsgId: Type.String(),
  sender: UserRefSchema,
  sentAt: Type.String(),
};

export const MessageSchema = Type.Object({
  ...logEntry,
  text: Type.String(),
  /** Set once the message was edited; `text` is then the latest text. */
  editedAt: Type.Optional(Type.String()),
  /** Set once the message was deleted; `text` is then empty. */
  deleted: Type.Optional(Type.Literal(true)),
});
export type Message = Static<typeof MessageSchema>;

export const MessageEventSchema = Type.Object({ type: Type.Literal('message'), ...MessageSchema.properties });
export type MessageEvent = Static<typeof MessageEventSchema>;

/** An edit: a later entry of the room's log, with a seq of its own, naming the edited message's seq. */
export const MessageEditedEventSchema = Type.Object({ type: Type.Literal('message_edited'), ...logEntry, target: Type.Integer(), text: Type.String() });
export type MessageEditedEvent = Static<typeof MessageEditedEventSchema>;

export const MessageDeletedEventSchema = Type.Object({ type: Type.Literal('message_deleted'), ...logEntry, target: Type.Integer() });
export type MessageDeletedEvent = Static<typeof MessageDeletedEventSchema>;

/**
 * A membership change: an entry of the room's log like any other, so that every stream acts on it at exactly its seq
 * (docs/protocol.md §7). `sentAt` is when it was stored.
 */
const membershipEntry = { room: Type.String(), seq: Type.Integer(), user: UserRefSchema, sentAt: Type.String() };

export const MemberJoinedEventSchema = Type.Object({ type: Type.Literal('member_joined'), ...membershipEntry });
export type MemberJoinedEvent = Static<typeof MemberJoinedEventSchema>;

/** The last entry of the room on the leaver's own streams. */
export const MemberLeftEventSchema = Type.Object({ type: Type.Literal('member_left'), ...membershipEntry });
export type MemberLeftEvent = Static<typeof MemberLeftEventSchema>;

export type MembershipEvent = MemberJoinedEvent | MemberLeftEvent;

/** What occupies one seq of a room: history returns these, streams deliver them. */
export const RoomLogEntrySchema = Type.Union([
  MessageEventSchema,
  MessageEditedEventSchema,
  MessageDeletedEventSchema,
  MemberJoinedEventSchema,
  MemberLeftEventSchema,
]);
export type RoomLogEntry = Static<typeof RoomLogEntrySchema>;

/** The entries that senders' commands make, which the messaging service writes (gateways write the membership ones). */
export type SentEntry = Exclude<RoomLogEntry, MembershipEvent>;

export const PresenceEventSchema = Type.Object({
  type: Type.Literal('presence'),
  room: Type.String(),
  user: UserRefSchema,
  status: Type.Union([Type.Literal('online'), Type.Literal('offline')]),
});
export type PresenceEvent = Static<typeof PresenceEventSchema>;

export const TypingEventSchema = Type.Object({ type: Type.Literal('typing'), room: Type.String(), user: UserRefSchema });
export type TypingEvent = Static<typeof TypingEventSchema>;

export const EventSchema = Type.Union([...RoomLogEntrySchema.anyOf, PresenceEventSchema, TypingEventSchema]);
export type Event = Static<typeof EventSchema>;

/** Every event on a stream carries the stream position after it. */
export const StreamEventSchema = Type.Intersect([EventSchema, Type.Object({ cursor: Type.String() })]);
export type StreamEvent = Static<typeof StreamEventSchema>;

/** Opens every stream (docs/protocol.md §6): its cursor holds each room of the stream at its starting position. */
export const ReadyEventSchema = Type.Object({ type: Type.Literal('ready'), cursor: Type.String() });
export type ReadyEvent = Static<typeof ReadyEventSchema>;

export const AckFrameSchema = Type.Object({ type: Type.Literal('ack'), clientMsgId: Type.String() });
export type AckFrame = Static<typeof AckFrameSchema>;

export const ErrorFrameSchema = Type.Object({
  type: Type.Literal('error'),
  /** `too_slow` only ever ends an SSE stream (docs/protocol.md §8); every other code is an HTTP error code too. */
  code: Type.Union([ErrorCodeSchema, Type.Literal('too_slow')]),
  message: Type.String(),
  clientMsgId: Type.Optional(Type.String()),
  /** With `rate_limited`: how long to wait before sending again. */
  retryAfterMs: Type.Optional(Type.Integer()),
});
export type ErrorFrame = Static<typeof ErrorFrameSchema>;

export const PongFrameSchema = Type.Object({ type: Type.Literal('pong') });
export type PongFrame = Static<typeof PongFrameSchema>;

/** Everything a stream carries to the client: WebSocket frames, SSE `data:`, long-poll events. */
export const ServerFrameSchema = Type.Union([StreamEventSchema, ReadyEventSchema, AckFrameSchema, ErrorFrameSchema, PongFrameSchema]);
export type ServerFrame = Static<typeof ServerFrameSchema>;

export const ErrorBodySchema = Type.Object({ error: Type.Object({ code: ErrorCodeSchema, message: Type.String() }) });
export type ErrorBody = Static<typeof ErrorBodySchema>;
