import type { TransportName } from '@chat/protocol';
import { waitUntil, WsStream, type ApiClient } from './clients';

export interface StreamFrame {
  type: string;
  cursor?: string;
  room?: string;
  seq?: number;
  text?: string;
  clientMsgId?: string;
  code?: string;
  [key: string]: unknown;
}

export type MessageFrame = StreamFrame & { type: 'message'; room: string; seq: number; id: string; clientMsgId: string };

/** What the transport tests need of any stream client. */
export abstract class RecordingStream {
  readonly frames: StreamFrame[] = [];

  messages(room?: string): MessageFrame[] {
    return this.frames.filter((f): f is MessageFrame => f.type === 'message' && (!room || f.room === room));
  }

  get cursor(): string | undefined {
    for (let i = this.frames.length - 1; i >= 0; i--) if (typeof this.frames[i]!.cursor === 'string') return this.frames[i]!.cursor;
    return undefined;
  }

  waitForMessages(count: number, timeoutMs = 10_000, room?: string): Promise<MessageFrame[]> {
    return waitUntil(() => (this.messages(room).length >= count ? this.messages(room) : undefined), timeoutMs, `${count} messages`);
  }

  abstract close(): Promise<void>;
}

/** An SSE client over fetch: parses `id:`, `event:` and `data:` lines, records each event. */
export class SseStream extends RecordingStream {
  lastEventId: string | undefined;
  retryMs: number | undefined;
  comments = 0;
  ended = false;
  private readonly controller = new AbortController();

  private constructor() {
    super();
  }

  static async open(baseUrl: string, query: Record<string, string | undefined>, headers: Record<string, string> = {}): Promise<SseStream> {
    const url = new URL('/sse', baseUrl);
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, value);
    const stream = new SseStream();
    const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: stream.controller.signal });
    if (response.status !== 200) throw new Error(`sse refused: ${response.status} ${await response.text()}`);
    // A read that fails (the stream aborted by close()) ends the stream like the server's end does.
    stream.read(response.body!).catch(() => (stream.ended = true));
    await waitUntil(() => stream.frames.some((f) => f.type === 'ready'), 15_000, 'the ready event');
    return stream;
  }

  static forUser(client: ApiClient, query: Record<string, string | undefined> = {}, headers: Record<string, string> = {}): Promise<SseStream> {
    return SseStream.open(client.baseUrl, query, { authorization: `Bearer ${client.token}`, ...headers });
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          this.parseBlock(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch {
      // aborted by close()
    }
    this.ended = true;
  }

  private parseBlock(block: string): void {
    let data = '';
    let event = 'message';
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) this.comments++;
      else if (line.startsWith('id: ')) this.lastEventId = line.slice(4);
      else if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data += line.slice(6);
      else if (line.startsWith('retry: ')) this.retryMs = Number(line.slice(7));
    }
    if (data) this.frames.push({ ...(JSON.parse(data) as StreamFrame), sseEvent: event });
  }

  async close(): Promise<void> {
    this.controller.abort();
    await waitUntil(() => this.ended, 2_000, 'the SSE stream to end');
  }
}

/** A long-poll client: polls in a loop from the last cursor until closed. */
export class PollStream extends RecordingStream {
  polls = 0;
  lastStatus = 0;
  private running = true;
  private loop: Promise<void> = Promise.resolve();
  private controller = new AbortController();

  constructor(
    private readonly baseUrl: string,
    private readonly query: Record<string, string | undefined>,
    private readonly headers: Record<string, string>,
    private pollCursor: string | undefined,
  ) {
    super();
  }

  static start(client: ApiClient, query: Record<string, string | undefined> = {}, timeoutSeconds = 2): PollStream {
    const { cursor, ...rest } = query;
    const stream = new PollStream(client.baseUrl, { ...rest, timeout: String(timeoutSeconds) }, { authorization: `Bearer ${client.token}` }, cursor);
    stream.begin();
    return stream;
  }

  begin(): void {
    this.loop = this.run();
  }

  /** One poll, for tests that look at single answers. */
  static async once(baseUrl: string, query: Record<string, string | undefined>, headers: Record<string, string> = {}, signal?: AbortSignal) {
    const url = new URL('/poll', baseUrl);
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, value);
    const response = await fetch(url, { headers, signal });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as { events: StreamFrame[]; cursor: string; error?: { code: string } } };
  }

  override get cursor(): string | undefined {
    return this.pollCursor;
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        const { status, body } = await PollStream.once(this.baseUrl, { ...this.query, cursor: this.pollCursor }, this.headers, this.controller.signal);
        this.polls++;
        this.lastStatus = status;
        if (status !== 200) throw new Error(`poll answered ${status}`);
        this.frames.push(...body.events);
        this.pollCursor = body.cursor;
      } catch {
        if (!this.running) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  async close(): Promise<void> {
    this.running = false;
    this.controller.abort();
    await this.loop;
  }
}

/** The part of a stream client the transport-agnostic tests use. */
export interface TestStream {
  messages(room?: string): Array<{ room: string; seq: number; id: string; clientMsgId: string }>;
  readonly cursor: string | undefined;
  waitForMessages(count: number, timeoutMs?: number, room?: string): Promise<unknown[]>;
  close(): Promise<void>;
}

/** Opens a stream of any transport for a user at a gateway, resuming from `cursor` when given. */
export async function openStream(
  transport: TransportName,
  client: ApiClient,
  baseUrl: string,
  query: { rooms?: string; cursor?: string },
): Promise<TestStream> {
  const auth = { authorization: `Bearer ${client.token}` };
  switch (transport) {
    case 'websocket':
      return WsStream.open(baseUrl, query, auth);
    case 'sse': {
      // As an EventSource resumes: the cursor in Last-Event-ID.
      const { cursor, ...rest } = query;
      return SseStream.open(baseUrl, rest, cursor ? { ...auth, 'last-event-id': cursor } : auth);
    }
    case 'poll': {
      const stream = new PollStream(baseUrl, { ...query, cursor: undefined, timeout: '2' }, auth, query.cursor);
      stream.begin();
      // Like the other transports' ready event: the stream's position is fixed once the first poll is answered.
      await waitUntil(() => stream.polls > 0, 5_000, 'the first poll answer');
      return stream;
    }
  }
}
