/**
 * JSON schemas of every request body, query and client frame, each with its
 * type as the schema's Static. Fastify validates HTTP input with them; the
 * WebSocket adapter validates frames with the same objects, so there is one
 * definition of valid input. Unknown fields are refused.
 */
import { Type, type Static } from '@sinclair/typebox';
import {
  CLIENT_MSG_ID_PATTERN,
  MAX_HISTORY_LIMIT,
  MAX_POLL_TIMEOUT_SECONDS,
  MAX_ROOM_NAME_CODE_POINTS,
  MAX_SAFE_SEQ,
  MAX_TEXT_CODE_POINTS,
  USERNAME_PATTERN,
  UUID_PATTERN,
} from './limits';

const strict = { additionalProperties: false } as const;

export const RoomId = Type.String({ pattern: UUID_PATTERN });
export const ClientMsgId = Type.String({ pattern: CLIENT_MSG_ID_PATTERN });
/** Length in code points is checked again by checkMessageText; this bound keeps parsing cheap. */
export const MessageText = Type.String({ minLength: 1, maxLength: MAX_TEXT_CODE_POINTS * 2 });

export const LoginBody = Type.Object({ username: Type.String({ pattern: USERNAME_PATTERN }) }, strict);
export type LoginBody = Static<typeof LoginBody>;

export const CreateRoomBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: MAX_ROOM_NAME_CODE_POINTS * 2 }) },
  strict,
);
export type CreateRoomBody = Static<typeof CreateRoomBody>;

export const SendMessageBody = Type.Object({ clientMsgId: ClientMsgId, text: MessageText }, strict);
export type SendMessageBody = Static<typeof SendMessageBody>;

export const RoomParams = Type.Object({ roomId: Type.String({ minLength: 1, maxLength: 64 }) }, strict);
export type RoomParams = Static<typeof RoomParams>;

const Seq = Type.Integer({ minimum: 0, maximum: MAX_SAFE_SEQ });
const TargetSeq = Type.Integer({ minimum: 1, maximum: MAX_SAFE_SEQ });

export const MessageParams = Type.Object({ roomId: Type.String({ minLength: 1, maxLength: 64 }), seq: TargetSeq }, strict);
export type MessageParams = Static<typeof MessageParams>;

export const EditMessageBody = Type.Object({ clientMsgId: ClientMsgId, text: MessageText }, strict);
export type EditMessageBody = Static<typeof EditMessageBody>;

export const ReadBody = Type.Object({ seq: Seq }, strict);
export type ReadBody = Static<typeof ReadBody>;

export const DirectMessageBody = Type.Object({ userId: Type.String({ pattern: UUID_PATTERN }) }, strict);
export type DirectMessageBody = Static<typeof DirectMessageBody>;
export const HistoryQuery = Type.Object(
  {
    after: Type.Optional(Seq),
    before: Type.Optional(Seq),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_HISTORY_LIMIT })),
  },
  strict,
);
export type HistoryQuery = Static<typeof HistoryQuery>;

/** Query of /ws, /sse and /poll; `rooms` is a comma-separated list of room ids. */
export const StreamQuery = Type.Object(
  {
    rooms: Type.Optional(Type.String({ maxLength: 64 * 1024 })),
    cursor: Type.Optional(Type.String({ maxLength: 64 * 1024 })),
    ticket: Type.Optional(Type.String({ maxLength: 256 })),
    timeout: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_POLL_TIMEOUT_SECONDS })),
  },
  strict,
);
export type StreamQuery = Static<typeof StreamQuery>;

export const SendFrameSchema = Type.Object(
  { type: Type.Literal('send'), room: RoomId, clientMsgId: ClientMsgId, text: MessageText },
  strict,
);
export type SendFrame = Static<typeof SendFrameSchema>;
export const SubscriptionFrameSchema = Type.Object(
  {
    type: Type.Union([Type.Literal('subscribe'), Type.Literal('unsubscribe')]),
    rooms: Type.Array(RoomId, { minItems: 1, maxItems: 1024 }),
  },
  strict,
);
export type SubscriptionFrame = Static<typeof SubscriptionFrameSchema>;
export const TypingFrameSchema = Type.Object({ type: Type.Literal('typing'), room: RoomId }, strict);
export type TypingFrame = Static<typeof TypingFrameSchema>;
export const PingFrameSchema = Type.Object({ type: Type.Literal('ping') }, strict);
export type PingFrame = Static<typeof PingFrameSchema>;
export const EditFrameSchema = Type.Object(
  { type: Type.Literal('edit'), room: RoomId, target: TargetSeq, clientMsgId: ClientMsgId, text: MessageText },
  strict,
);
export type EditFrame = Static<typeof EditFrameSchema>;
export const DeleteFrameSchema = Type.Object(
  { type: Type.Literal('delete'), room: RoomId, target: TargetSeq, clientMsgId: ClientMsgId },
  strict,
);
export type DeleteFrame = Static<typeof DeleteFrameSchema>;

export type ClientFrame = SendFrame | SubscriptionFrame | TypingFrame | PingFrame | EditFrame | DeleteFrame;
