import { decodeCursor, type TransportName } from '@chat/protocol';
import type { FrameReceived, History, Positions, ResumeKind } from '../history';

/** What the harness drives: every recording client, raw or SDK-based. */
export interface RecordingClient {
  readonly client: string;
  readonly user: string;
  /** Starts; resolves once the first connection is open (a receiver) or at once (a sender without a stream). */
  start(): Promise<void>;
  /** Stops for good, recorded as `client-stopped`: the checker expects it closed from then on. */
  stop(): Promise<void>;
}

/** Who a client is on the wire: a login's token and user (an ApiClient of @chat/testkit is one). */
export interface Identity {
  token: string;
  user: { id: string };
}

/** A cursor decoded for the history; a malformed one (the server's fault) records as no position at all. */
export function positionsOf(cursor: string | undefined): Positions {
  if (!cursor) return {};
  try {
    return Object.fromEntries(decodeCursor(cursor));
  } catch {
    return {};
  }
}

/** A frame's own fields, as far as the checker reads them. */
type FrameFields = Omit<FrameReceived, 'op' | 't' | 'client' | 'connection' | 'transport' | 'raw'>;

function fieldsOf(parsed: unknown): FrameFields {
  if (typeof parsed !== 'object' || parsed === null) return { type: 'unparseable' };
  const frame = parsed as Record<string, unknown>;
  const sender = frame.sender as { id?: unknown } | undefined;
  const pick = <T>(value: unknown, type: string) => (typeof value === type ? (value as T) : undefined);
  const fields: FrameFields = { type: pick<string>(frame.type, 'string') ?? 'untyped' };
  const room = pick<string>(frame.room, 'string');
  const seq = pick<number>(frame.seq, 'number');
  const clientMsgId = pick<string>(frame.clientMsgId, 'string');
  const text = pick<string>(frame.text, 'string');
  const senderId = pick<string>(sender?.id, 'string');
  const target = pick<number>(frame.target, 'number');
  if (room !== undefined) fields.room = room;
  if (seq !== undefined) fields.seq = seq;
  if (clientMsgId !== undefined) fields.clientMsgId = clientMsgId;
  if (text !== undefined) fields.text = text;
  if (senderId !== undefined) fields.senderId = senderId;
  if (target !== undefined) fields.target = target;
  if (frame.deleted === true) fields.deleted = true;
  return fields;
}

/**
 * One connection's record: opened (with the cursor it resumed from), every raw frame, the server's statements of
 * position, closed. An SDK-based recorder makes one per SDK connection and feeds it from the SDK's raw-frame hook.
 */
export class ConnectionRecorder {
  private closed = false;

  constructor(
    private readonly history: History,
    readonly client: string,
    readonly connection: string,
    readonly transport: TransportName,
  ) {}

  static open(
    history: History,
    identity: { client: string; user: string; connection: string; transport: TransportName },
    stream: { rooms: readonly string[] | null; resume: ResumeKind; cursor: string | undefined },
  ): ConnectionRecorder {
    history.record({
      op: 'connection-opened',
      client: identity.client,
      user: identity.user,
      connection: identity.connection,
      transport: identity.transport,
      rooms: stream.rooms ? [...stream.rooms] : null,
      resume: stream.resume,
      from: positionsOf(stream.cursor),
    });
    return new ConnectionRecorder(history, identity.client, identity.connection, identity.transport);
  }

  /** Records a frame as it came off the wire and returns it parsed (undefined when it is not JSON). */
  frame(raw: string): Record<string, unknown> | undefined {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = undefined;
    }
    this.history.record({ op: 'frame', client: this.client, connection: this.connection, transport: this.transport, ...fieldsOf(parsed), raw });
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  }

  /** The server said where the stream is: the `ready` cursor, or a long poll's answer cursor. */
  positions(cursor: string): void {
    this.history.record({ op: 'stream-positions', client: this.client, connection: this.connection, positions: positionsOf(cursor) });
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.history.record({ op: 'connection-closed', client: this.client, connection: this.connection, reason });
  }
}
