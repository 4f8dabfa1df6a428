import WebSocket from 'ws';
import type { Room, ServerFrame, UserRef } from '@chat/protocol';

export interface HttpResult<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/** The public HTTP API as a user of it sees it. */
export class ApiClient {
  token = '';
  user: UserRef = { id: '', name: '' };

  constructor(readonly baseUrl: string) {}

  static async login(baseUrl: string, username: string): Promise<ApiClient> {
    const client = new ApiClient(baseUrl);
    const { status, body } = await client.request<{ token: string; user: UserRef }>('POST', '/api/login', { username });
    if (status !== 200) throw new Error(`login failed with ${status}: ${JSON.stringify(body)}`);
    client.token = body.token;
    client.user = body.user;
    return client;
  }

  async request<T = unknown>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult<T>> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed as T, headers: response.headers };
  }

  async createRoom(name: string): Promise<Room> {
    const { status, body } = await this.request<{ room: Room }>('POST', '/api/rooms', { name });
    if (status !== 201) throw new Error(`create room failed with ${status}: ${JSON.stringify(body)}`);
    return body.room;
  }

  async joinRoom(roomId: string): Promise<void> {
    const { status, body } = await this.request('POST', `/api/rooms/${roomId}/join`);
    if (status !== 200) throw new Error(`join failed with ${status}: ${JSON.stringify(body)}`);
  }
}

export async function waitUntil<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

type Frame = ServerFrame | { type: 'ready'; cursor: string };

/** A WebSocket stream client that records every frame it gets. */
export class WsStream {
  readonly frames: Frame[] = [];
  closeCode: number | undefined;
  closeReason = '';

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => this.frames.push(JSON.parse(data.toString()) as Frame));
    socket.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
    });
  }

  /** Opens /ws and waits for the `ready` frame; rejects with the HTTP status if the upgrade is refused. */
  static async open(baseUrl: string, query: Record<string, string | undefined>, headers: Record<string, string> = {}): Promise<WsStream> {
    const url = new URL('/ws', baseUrl.replace(/^http/, 'ws'));
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, value);
    // handshakeTimeout: an upgrade that never answers fails the open instead of hanging the test.
    const socket = new WebSocket(url, { headers, handshakeTimeout: 15_000 });
    const stream = new WsStream(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('unexpected-response', (_request, response) => reject(new Error(`upgrade refused: ${response.statusCode}`)));
      socket.once('error', reject);
    });
    await waitUntil(() => stream.frames.some((frame) => frame.type === 'ready'), 15_000, 'the ready frame');
    return stream;
  }

  static forUser(client: ApiClient, query: Record<string, string | undefined> = {}): Promise<WsStream> {
    return WsStream.open(client.baseUrl, query, { authorization: `Bearer ${client.token}` });
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  messages(room?: string): Array<Extract<Frame, { type: 'message' }>> {
    return this.frames.filter((frame): frame is Extract<Frame, { type: 'message' }> => frame.type === 'message' && (!room || frame.room === room));
  }

  /** The cursor of the last frame that carried one. */
  get cursor(): string | undefined {
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const frame = this.frames[i]!;
      if ('cursor' in frame && typeof frame.cursor === 'string') return frame.cursor;
    }
    return undefined;
  }

  waitFor<T extends Frame>(predicate: (frame: Frame) => frame is T, timeoutMs?: number, what?: string): Promise<T>;
  waitFor(predicate: (frame: Frame) => boolean, timeoutMs?: number, what?: string): Promise<Frame>;
  waitFor(predicate: (frame: Frame) => boolean, timeoutMs = 10_000, what = 'a matching frame'): Promise<Frame> {
    return waitUntil(() => this.frames.find(predicate), timeoutMs, what);
  }

  waitForMessages(count: number, timeoutMs = 10_000, room?: string): Promise<Array<Extract<Frame, { type: 'message' }>>> {
    return waitUntil(() => (this.messages(room).length >= count ? this.messages(room) : undefined), timeoutMs, `${count} messages`).catch(
      (error: Error) => {
        throw new Error(`${error.message} (got ${this.messages(room).length}; close code ${this.closeCode ?? 'none'})`);
      },
    );
  }

  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((resolve) => this.socket.once('close', resolve));
    this.socket.close();
    // A server that never answers the close frame: end the socket after a deadline instead of waiting for ever.
    const timer = setTimeout(() => this.socket.terminate(), 10_000);
    await closed;
    clearTimeout(timer);
  }
}
