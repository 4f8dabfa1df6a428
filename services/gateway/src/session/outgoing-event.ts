import type { Event } from '@chat/protocol';

/** `ready` (an extension of the contract) opens every stream with its starting cursor. */
export type StreamEventType = Event['type'] | 'ready';

/**
 * One event at one stream position, and its bytes on each transport, each
 * encoded on first use and then kept. Every stream that covers only the
 * event's room is at the same cursor after it, so those streams share one
 * OutgoingEvent: a room of 1,000 such members costs one encoding per event,
 * not 1,000 (the fan-out benchmark in docs/benchmarks.md).
 */
export class OutgoingEvent {
  private text?: string;
  private wsFrame?: Buffer;
  private sseFrame?: Buffer;

  /** `json` is the event without its cursor, as every recipient shares it. */
  constructor(
    readonly type: StreamEventType,
    readonly json: string,
    readonly cursor: string,
  ) {}

  /** The event JSON with the cursor spliced in: a WebSocket message, an element of a long poll's answer. */
  get jsonWithCursor(): string {
    return (this.text ??= `${this.json.slice(0, -1)},"cursor":"${this.cursor}"}`);
  }

  /** The whole WebSocket text frame, header included, as a server sends it (unmasked, unfragmented: RFC 6455 §5.2). */
  get websocketFrame(): Buffer {
    return (this.wsFrame ??= websocketTextFrame(this.jsonWithCursor));
  }

  /** The SSE event: its id is the cursor, so a reconnecting EventSource resumes through Last-Event-ID. */
  get sseEvent(): Buffer {
    return (this.sseFrame ??= Buffer.from(`id: ${this.cursor}\nevent: ${this.type}\ndata: ${this.jsonWithCursor}\n\n`));
  }
}

/** A final, unmasked text frame carrying `text`. */
export function websocketTextFrame(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const header = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = 0x81; // FIN, opcode 1 (text)
  if (header === 2) {
    frame[1] = length;
  } else if (header === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  frame.write(text, header, 'utf8');
  return frame;
}
