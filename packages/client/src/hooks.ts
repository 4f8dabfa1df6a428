import type { TransportName } from '@chat/protocol';

/**
 * What the SDK's `onConnection` hook sees of each connection: the fault suite's recording clients write a connection's
 * life from it (with `onRawFrame` in between), and debugging tools may too. `connection` numbers this client's
 * connection attempts from 1; an attempt that never opened is only ever `closed` (with `established: false`).
 */
export type ConnectionEvent =
  /** Open: WebSocket and SSE once the `ready` frame came (before it reaches `onRawFrame`), long polling on its first answer. */
  | { type: 'opened'; connection: number; transport: TransportName; cursor: string | undefined }
  /** The server stated a position without an event: a long poll's answer cursor (after that answer's frames). */
  | { type: 'position'; connection: number; cursor: string }
  | { type: 'closed'; connection: number; transport: TransportName; reason: string; established: boolean };

/**
 * What the `onSendAttempt` hook sees of each send: every attempt that went out (a retry keeps the clientMsgId and
 * counts `attempt` up), and how that attempt ended. `error` is absent when it was acknowledged (WebSocket `ack`,
 * HTTP 202); otherwise its code says why, as the server sent it, or `unavailable` (no ack in time, the connection
 * closed, a network error).
 */
export type SendAttemptEvent =
  | { type: 'sent'; room: string; clientMsgId: string; text: string; attempt: number; via: 'websocket' | 'http'; connection?: number }
  | { type: 'settled'; room: string; clientMsgId: string; attempt: number; error?: { code: string; message: string } };
