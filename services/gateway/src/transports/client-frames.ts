import type { RawData } from 'ws';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { DISCONNECT, parseClientFrame, type ClientFrame, type Disconnect, type ErrorFrame } from '@chat/protocol';
import { ClientError, monotonicNow } from '@chat/runtime';
import { inSpan, roomRef } from '@chat/telemetry';
import type { Principal } from '../ports/principal';
import type { GatewayContext } from '../context';
import { roomCommand } from '../session/message-sender';
import type { Session } from '../session/session';
import { planStream } from '../session/stream-plan';

/** Shared by every handler until its first send: a settled promise carries no state. */
const NO_SEND_PENDING: Promise<unknown> = Promise.resolve();

/** Past this many refused frames in a row, the client is not backing off: close with `rateLimited` (4029). */
const MAX_REFUSED_SENDS_IN_A_ROW = 20;

/** How long a second subscribe frame, sent while one is still being read, is told to wait. */
const SUBSCRIBE_RETRY_MS = 250;

function errorFrame(error: unknown): ErrorFrame {
  if (error instanceof ClientError) return { type: 'error', code: error.code, message: error.message };
  return { type: 'error', code: 'internal', message: 'internal error' };
}

/**
 * What a WebSocket client sends: pings, sends, edits, deletes, subscriptions
 * and typing, each answered on the socket. A class rather than closures in the
 * connection handler, because every idle socket holds one: methods live once
 * on the prototype, where per-socket named closures cost a few hundred bytes
 * each (tsx keeps function names with Object.defineProperty).
 */
export class ClientFrameHandler {
  /** Sends from one connection are accepted one after another, so they keep their order in the room. */
  private acceptTurn = NO_SEND_PENDING;
  private refusedInARow = 0;
  /** The connection's token bucket for frames of any kind (`WS_FRAME_RATE_PER_SECOND`, `WS_FRAME_BURST`). */
  private frameTokens: number;
  private frameTokensAt: number;
  /** A subscribe frame's rooms are being read: the next one waits (each may name 1,024 rooms). */
  private subscribing = false;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly principal: Principal,
    private readonly session: Session,
    private readonly writer: { text(text: string): void; close(disconnect: Disconnect): void },
  ) {
    this.frameTokens = ctx.config.wsFrameBurst;
    this.frameTokensAt = monotonicNow();
  }

  onMessage(data: RawData, isBinary: boolean): void {
    // Every frame costs a token, a malformed one too: what a client may make the server do has one budget. Taken
    // before the frame is parsed, so that a flood of big frames (subscribes naming 1,024 rooms) is not parsed either.
    const waitMs = this.takeFrameToken();
    if (waitMs > 0) {
      const error = new ClientError('rate_limited', `too many frames on this connection; retry in ${waitMs} ms`, waitMs);
      this.refuse(isBinary ? undefined : clientMsgIdOf(data), error, 'frame_rate');
      return;
    }
    const parsed = isBinary ? undefined : parseClientFrame(data.toString());
    if (!parsed) this.sendFrame({ type: 'error', code: 'invalid_input', message: 'binary frames are not supported' });
    else if (!parsed.ok) this.sendFrame(parsed.error);
    else {
      // handleFrame answers every failure with an error frame; this is for one that failed while answering. A closure
      // per frame, not a property per connection (idle sockets are counted in bytes).
      (parsed.frame.type === 'ping' ? this.handleFrame(parsed.frame) : this.traceFrame(parsed.frame)).catch((error: unknown) =>
        this.ctx.logger.error({ err: error }, 'a frame could not be answered'),
      );
    }
  }

  private sendFrame(frame: object): void {
    this.writer.text(JSON.stringify(frame));
  }

  /** 0 when the frame may be handled, else the milliseconds until a token comes. */
  private takeFrameToken(): number {
    const { wsFrameRatePerSecond: rate, wsFrameBurst: burst } = this.ctx.config;
    const now = monotonicNow();
    this.frameTokens = Math.min(burst, this.frameTokens + ((now - this.frameTokensAt) / 1000) * rate);
    this.frameTokensAt = now;
    if (this.frameTokens >= 1) {
      this.frameTokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.frameTokens) / rate) * 1000);
  }

  /**
   * A frame refused for its rate, or a subscribe while one is read: `rate_limited` with the wait, and the frame's
   * `clientMsgId` when it is a send (so that the sender's ack does not wait for nothing). Past
   * `MAX_REFUSED_SENDS_IN_A_ROW` in a row, the connection is closed with 4029.
   */
  private refuse(clientMsgId: string | undefined, error: ClientError, reason: 'frame_rate' | 'subscribe_in_flight'): void {
    const failure = errorFrame(error);
    if (clientMsgId !== undefined) failure.clientMsgId = clientMsgId;
    failure.retryAfterMs = error.retryAfterMs;
    this.ctx.metrics.framesRefused.inc({ reason });
    if (++this.refusedInARow > MAX_REFUSED_SENDS_IN_A_ROW) this.writer.close(DISCONNECT.rateLimited);
    this.sendFrame(failure);
  }

  /** Each frame is the root of its own trace (a socket lives far longer than one), ending with its ack or error. */
  private traceFrame(frame: ClientFrame): Promise<void> {
    return inSpan(`websocket ${frame.type}`, { kind: SpanKind.SERVER, root: true, attributes: { 'chat.frame.type': frame.type } }, (span) => {
      // A reference, not the id: spans leave the deployment for a collector (docs/security.md). Hashed only for a
      // span that is recorded: untraced, a frame costs no hash.
      if (span.isRecording() && 'room' in frame && typeof frame.room === 'string') span.setAttribute('chat.room.ref', roomRef(frame.room));
      return this.handleFrame(frame);
    });
  }

  private async handleFrame(frame: ClientFrame): Promise<void> {
    const { ctx, principal, session } = this;
    try {
      switch (frame.type) {
        case 'ping':
          this.sendFrame({ type: 'pong' });
          return;
        case 'send':
        case 'edit':
        case 'delete': {
          const command = roomCommand(frame);
          const accepted = this.acceptTurn.then(() => ctx.sender.accept(principal.user, command));
          this.acceptTurn = accepted.catch(() => undefined);
          await (await accepted).durable;
          this.refusedInARow = 0;
          this.sendFrame({ type: 'ack', clientMsgId: frame.clientMsgId });
          return;
        }
        case 'subscribe': {
          if (this.subscribing) {
            this.refuse(undefined, new ClientError('rate_limited', 'one subscribe at a time: the previous one is still being read', SUBSCRIBE_RETRY_MS), 'subscribe_in_flight');
            return;
          }
          ctx.limits.checkUserFrame(principal.user.id);
          this.subscribing = true;
          try {
            const more = await planStream(ctx.store, principal.user.id, frame.rooms, new Map(session.carriedPositions));
            await session.addRooms(more.positions);
          } finally {
            this.subscribing = false;
          }
          return;
        }
        case 'unsubscribe':
          session.removeRooms(frame.rooms);
          return;
        case 'typing':
          ctx.limits.checkUserFrame(principal.user.id);
          await ctx.typing.notify(principal.user, frame.room);
          return;
      }
    } catch (error) {
      if (!(error instanceof ClientError)) ctx.logger.error({ err: error, frame: frame.type }, 'frame handling failed');
      const failure = errorFrame(error);
      if ('clientMsgId' in frame) failure.clientMsgId = frame.clientMsgId;
      trace.getActiveSpan()?.setStatus({ code: SpanStatusCode.ERROR, message: failure.code });
      if (error instanceof ClientError && error.code === 'rate_limited') {
        failure.retryAfterMs = error.retryAfterMs;
        if (++this.refusedInARow > MAX_REFUSED_SENDS_IN_A_ROW) this.writer.close(DISCONNECT.rateLimited);
      }
      this.sendFrame(failure);
    }
  }
}

/** Where a refused frame's `clientMsgId` is looked for: a send names it before its text (the SDK's frames do). */
const CLIENT_MSG_ID_WINDOW = 256;
// The contract's characters but the quote and the backslash (JSON would have escaped them: such an id is not found).
const CLIENT_MSG_ID = /"clientMsgId"\s*:\s*"([!#-[\]-~]{1,64})"/;

/**
 * The `clientMsgId` of a frame refused unparsed, read in its first bytes only: cheap whatever the frame's size, and
 * a frame that names it later (or escaped) is answered without one.
 */
function clientMsgIdOf(data: RawData): string | undefined {
  const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
  return CLIENT_MSG_ID.exec(bytes.subarray(0, CLIENT_MSG_ID_WINDOW).toString('latin1'))?.[1];
}
