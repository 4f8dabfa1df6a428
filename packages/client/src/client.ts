import type { Event, MessageDeletedEvent, MessageEditedEvent, MessageEvent, ServerFrame, TransportName } from '@chat/protocol';
import type { MemberJoinedEvent, MemberLeftEvent } from '@chat/protocol';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff';
import type { ConnectionEvent, SendAttemptEvent } from './hooks';
import { DEFAULT_LIVENESS, withDeadline, type LivenessOptions } from './liveness';
import { isOffline, watchNetwork } from './network';
import { connectLongPoll } from './transports/long-poll';
import { connectSse } from './transports/sse';
import type { CloseInfo, ConnectParams, TransportConnection, TransportHandlers } from './transports/types';
import { connectWebSocket } from './transports/websocket';

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'offline' | 'closed';

export interface ConnectionStatus {
  state: ConnectionState;
  transport: TransportName | undefined;
  /** When reconnecting: when the next attempt starts (epoch ms). */
  retryAt?: number;
  /** Why the last connection ended. */
  reason?: string;
}

export interface ChatClientOptions {
  /** The site's origin, e.g. https://chat.example.com; a function picks one per attempt (tests, several gateways). */
  baseUrl: string | (() => string);
  /** The bearer token; called again after the server says it expired (4001). */
  getToken: () => string | Promise<string>;
  /**
   * Transports in order of preference. One that fails twice in a row gives way to the next: it did not open, or it
   * opened and died before it was healthy without the server saying why (frozen behind a buffering proxy, say).
   */
  transports?: TransportName[];
  /**
   * On a fallback transport, how long (from its opening; uniformly random within the range) until the preferred one is
   * tried again; see DEFAULT_PREFERRED_RETRY. `false`: a fallback is kept until it fails.
   */
  preferredRetry?: PreferredRetryOptions | false;
  rooms?: string[];
  cursor?: string;
  backoff?: BackoffOptions;
  openTimeoutMs?: number;
  /** How long a silent connection, a request, an ack may take, and when a connection counts as healthy; see DEFAULT_LIVENESS. */
  liveness?: Partial<LivenessOptions>;
  /**
   * Sees every frame the server sent, as it came off the wire, before the SDK drops repeats by (room, seq), with the
   * number of the connection it came on (as `onConnection` numbers them): the fault suite's recording clients log with
   * it. Called synchronously; it must not throw.
   */
  onRawFrame?: (frame: ServerFrame, transport: TransportName, connection: number) => void;
  /** Sees each connection open (with the cursor it resumed from), state a position, and close. Synchronous; must not throw. */
  onConnection?: (event: ConnectionEvent) => void;
  /** Sees each attempt of a send go out and end (see SendAttemptEvent). Synchronous; must not throw. */
  onSendAttempt?: (event: SendAttemptEvent) => void;
  random?: () => number;
  fetch?: typeof fetch;
  WebSocket?: typeof WebSocket;
}

/** The longest a server's retry hint holds a send back. */
const MAX_RETRY_HINT_MS = 30_000;

export class SendError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** The server's hint of when to try again (`rate_limited`, `unavailable`), when it gave one. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'SendError';
  }
}

interface PendingSend {
  room: string;
  clientMsgId: string;
  text: string;
  /** Attempts that went out so far. */
  attempts: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

type Listener<T> = (value: T) => void;
interface ClientEvents {
  message: MessageEvent;
  /** Later entries of a room's log that change an earlier message (docs/protocol.md §7). */
  edit: MessageEditedEvent;
  delete: MessageDeletedEvent;
  /** Joins and leaves, entries of the room's log too; the user's own `member_left` is the room's last event. */
  member_joined: MemberJoinedEvent;
  member_left: MemberLeftEvent;
  presence: Extract<Event, { type: 'presence' }>;
  typing: Extract<Event, { type: 'typing' }>;
  status: ConnectionStatus;
}

const FAILURES_BEFORE_FALLBACK = 2;

export interface PreferredRetryOptions {
  minMs: number;
  maxMs: number;
}

/**
 * A client that fell back (a killed gateway, a proxy that refused WebSockets for a while) is not left on a slower
 * transport for good: every 30–60 s, jittered so that the clients of one fault do not come back in one wave, its
 * stream is closed and reopened on the preferred transport from its cursor. If that does not open, or dies before it is
 * healthy, the client goes straight back to the fallback, from the same cursor, and tries again later.
 */
export const DEFAULT_PREFERRED_RETRY: PreferredRetryOptions = { minMs: 30_000, maxMs: 60_000 };
const FATAL_SEND_CODES = new Set(['invalid_input', 'forbidden', 'not_found', 'too_large']);

function randomId(): string {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/**
 * One logical stream over whichever transport works: reconnects with jittered
 * backoff, resumes from its cursor, drops repeats by (room, seq), and queues
 * sends while offline, retrying each with the same clientMsgId so that a
 * retry never makes a second message.
 */
export class ChatClient {
  status: ConnectionStatus = { state: 'closed', transport: undefined };
  cursor: string | undefined;
  private readonly transports: TransportName[];
  private readonly lastSeq = new Map<string, number>();
  private readonly listeners: { [K in keyof ClientEvents]: Set<Listener<ClientEvents[K]>> } = {
    message: new Set(),
    edit: new Set(),
    delete: new Set(),
    member_joined: new Set(),
    member_left: new Set(),
    presence: new Set(),
    typing: new Set(),
    status: new Set(),
  };
  private readonly queue: PendingSend[] = [];
  private readonly acks = new Map<string, { resolve: () => void; reject: (error: Error) => void }>();
  private readonly liveness: LivenessOptions;
  private connection: TransportConnection | undefined;
  /** The number of the last connection attempt (`onConnection`'s `connection`). */
  private connectionNumber = 0;
  private transportIndex = 0;
  /** Failures in a row of the current transport (see `transports`). */
  private transportFailures = 0;
  /** Reconnects since a connection was last healthy: the backoff's exponent. */
  private attempt = 0;
  /** Whether the current connection has stayed open for `healthyAfterMs`. */
  private healthy = false;
  private healthyTimer: ReturnType<typeof setTimeout> | undefined;
  /** On a fallback: when the preferred transport is tried again. */
  private preferredTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * A retry of the preferred transport from the fallback at `fallback`: `switching` while the fallback's stream is
   * being closed for it, `trying` until the preferred one is healthy (a failure before that returns to the fallback).
   */
  private preferredTrial: { fallback: number; phase: 'switching' | 'trying' } | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = true;
  private pumping = false;
  private unwatchNetwork: () => void = () => undefined;

  constructor(private readonly options: ChatClientOptions) {
    this.transports = options.transports ?? ['websocket', 'sse', 'poll'];
    this.cursor = options.cursor;
    const liveness = { ...DEFAULT_LIVENESS, ...options.liveness };
    // The server answers a poll timeout outside 1..30 s with 400, which a client would retry for ever.
    liveness.pollTimeoutSeconds = Math.min(30, Math.max(1, Math.round(liveness.pollTimeoutSeconds)));
    this.liveness = liveness;
  }

  /** The app's token, within the request deadline: a token provider that hangs fails the attempt, which is retried. */
  private async token(): Promise<string> {
    const { requestTimeoutMs } = this.liveness;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no token within ${requestTimeoutMs} ms`)), requestTimeoutMs);
    });
    try {
      return await Promise.race([Promise.resolve().then(() => this.options.getToken()), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  on<K extends keyof ClientEvents>(event: K, listener: Listener<ClientEvents[K]>): () => void {
    this.listeners[event].add(listener);
    return () => this.listeners[event].delete(listener);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.unwatchNetwork = watchNetwork(
      () => this.connection?.close(),
      () => {
        if (this.connection || this.stopped) return;
        clearTimeout(this.retryTimer);
        this.attempt = 0;
        this.connectNow();
      },
    );
    this.connectNow();
  }

  stop(): void {
    this.stopped = true;
    this.unwatchNetwork();
    clearTimeout(this.retryTimer);
    clearTimeout(this.healthyTimer);
    clearTimeout(this.preferredTimer);
    this.preferredTrial = undefined;
    this.connection?.close();
    this.connection = undefined;
    this.setStatus({ state: 'closed', transport: undefined });
  }

  /** Resolves once the server has the message durably; queued while disconnected. */
  send(room: string, text: string, clientMsgId: string = randomId()): Promise<string> {
    return new Promise((resolve, reject) => {
      this.queue.push({ room, text, clientMsgId, attempts: 0, resolve: () => resolve(clientMsgId), reject });
      this.pumpNow();
    });
  }

  /** Tells the room's other members that the user is typing; the server throttles it, and a lost one does not matter. */
  typing(room: string): void {
    if (this.connection?.sendFrame?.({ type: 'typing', room })) return;
    void (async () => {
      const fetcher = this.options.fetch ?? globalThis.fetch.bind(globalThis);
      const token = await this.token();
      const url = new URL(`/api/rooms/${room}/typing`, this.baseUrl());
      await withDeadline(this.liveness.requestTimeoutMs, (signal) => fetcher(url, { method: 'POST', headers: { authorization: `Bearer ${token}` }, signal }));
    })().catch(() => undefined);
  }

  get pendingSends(): number {
    return this.queue.length;
  }

  private emit<K extends keyof ClientEvents>(event: K, value: ClientEvents[K]): void {
    for (const listener of this.listeners[event]) listener(value);
  }

  private setStatus(status: ConnectionStatus): void {
    this.status = status;
    this.emit('status', status);
  }

  private baseUrl(): string {
    return typeof this.options.baseUrl === 'function' ? this.options.baseUrl() : this.options.baseUrl;
  }

  /** connect() from a callback: a transport that throws while opening (a bad base URL, say) is one more failed attempt. */
  private connectNow(): void {
    this.connect().catch((error: unknown) => this.scheduleReconnect({ reason: `could not connect: ${(error as Error).message}`, established: false }));
  }

  /** pump() from a callback; it settles each send's failure itself, so a rejection here means the queue stopped: retry. */
  private pumpNow(): void {
    this.pump().catch(() => setTimeout(() => this.pumpNow(), 1_000));
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const kind = this.transports[this.transportIndex]!;
    const state = isOffline() ? 'offline' : this.attempt === 0 && !this.cursor ? 'connecting' : 'reconnecting';
    this.setStatus({ state, transport: kind });
    let token: string;
    try {
      token = await this.token();
    } catch (error) {
      this.scheduleReconnect({ reason: `could not get a token: ${(error as Error).message}`, established: false });
      return;
    }
    if (this.stopped) return;
    const params: ConnectParams = {
      baseUrl: this.baseUrl(),
      token,
      rooms: this.options.rooms,
      cursor: this.cursor,
      openTimeoutMs: this.options.openTimeoutMs ?? 8_000,
      liveness: this.liveness,
      fetch: this.options.fetch ?? globalThis.fetch.bind(globalThis),
      WebSocket: this.options.WebSocket ?? globalThis.WebSocket,
    };
    const { onRawFrame, onConnection } = this.options;
    const number = ++this.connectionNumber;
    this.healthy = false;
    const handlers: TransportHandlers = {
      onOpen: () => {
        onConnection?.({ type: 'opened', connection: number, transport: kind, cursor: params.cursor });
        // Only once the connection proved itself: were they reset on open, a server that accepts connections and drops
        // them would have every client back within the first second, over and over, and a frozen transport never left.
        this.healthyTimer = setTimeout(() => {
          this.healthy = true;
          this.attempt = 0;
          this.transportFailures = 0;
          this.preferredTrial = undefined;
        }, this.liveness.healthyAfterMs);
        this.schedulePreferredRetry();
        this.setStatus({ state: 'open', transport: kind });
        this.pumpNow();
      },
      onFrame: onRawFrame
        ? (frame) => {
            onRawFrame(frame, kind, number);
            this.handleFrame(frame);
          }
        : (frame) => this.handleFrame(frame),
      onCursor: (cursor) => {
        this.cursor = cursor;
        onConnection?.({ type: 'position', connection: number, cursor });
      },
      onClose: (info) => {
        onConnection?.({ type: 'closed', connection: number, transport: kind, reason: info.reason, established: info.established });
        clearTimeout(this.healthyTimer);
        clearTimeout(this.preferredTimer);
        if (this.connection === connection) this.connection = undefined;
        for (const [, pending] of this.acks) pending.reject(new SendError('unavailable', 'connection closed before the ack'));
        this.acks.clear();
        this.scheduleReconnect(info);
      },
    };
    const connect = kind === 'websocket' ? connectWebSocket : kind === 'sse' ? connectSse : connectLongPoll;
    const connection = connect(params, handlers);
    this.connection = connection;
  }

  private scheduleReconnect(info: CloseInfo): void {
    if (this.stopped) return;
    // What the server advised; a dropped connection resumes with backoff.
    const reconnect = info.disconnect?.reconnect ?? 'backoff';
    if (reconnect === 'never') {
      this.stopped = true;
      this.setStatus({ state: 'closed', transport: undefined, reason: info.reason });
      return;
    }
    const trial = this.preferredTrial;
    if (trial?.phase === 'switching') {
      // The fallback's stream was closed to try the preferred transport: at once, from the cursor, no backoff.
      trial.phase = 'trying';
      this.setStatus({ state: 'reconnecting', transport: this.transports[this.transportIndex], retryAt: Date.now(), reason: info.reason });
      this.retryTimer = setTimeout(() => this.connectNow(), 0);
      return;
    }
    const offline = isOffline();
    // A server that ends a stream says why, and that says nothing against the transport; nor does failing to connect
    // while the device is offline.
    const failed = !info.established || (!this.healthy && info.disconnect === undefined);
    if (failed && trial) {
      // The preferred transport still does not work: back to the fallback that did, which resumes from the same cursor.
      this.preferredTrial = undefined;
      this.transportFailures = 0;
      this.transportIndex = trial.fallback;
    } else if (failed && !offline && ++this.transportFailures >= FAILURES_BEFORE_FALLBACK) {
      this.transportFailures = 0;
      this.transportIndex = (this.transportIndex + 1) % this.transports.length;
    }
    // An expired token is renewed at once; everything else backs off with jitter.
    const delay = reconnect === 'reauthenticate' ? 0 : backoffDelay(this.attempt++, this.options.backoff ?? DEFAULT_BACKOFF, this.options.random);
    this.setStatus({
      state: offline ? 'offline' : 'reconnecting',
      transport: this.transports[this.transportIndex],
      retryAt: Date.now() + delay,
      reason: info.reason,
    });
    this.retryTimer = setTimeout(() => this.connectNow(), delay);
  }

  /** Once a fallback transport is open: the preferred one is tried again after a jittered wait (preferredRetry). */
  private schedulePreferredRetry(): void {
    const retry = this.options.preferredRetry ?? DEFAULT_PREFERRED_RETRY;
    if (retry === false || this.transportIndex === 0) return;
    const random = this.options.random ?? Math.random;
    const delay = retry.minMs + random() * Math.max(0, retry.maxMs - retry.minMs);
    this.preferredTimer = setTimeout(() => {
      const connection = this.connection;
      if (this.stopped || !connection || this.transportIndex === 0) return;
      this.preferredTrial = { fallback: this.transportIndex, phase: 'switching' };
      this.transportFailures = 0;
      this.transportIndex = 0;
      connection.close(`trying ${this.transports[0]} again`);
    }, delay);
  }

  private handleFrame(frame: ServerFrame): void {
    if ('cursor' in frame) this.cursor = frame.cursor;
    switch (frame.type) {
      case 'message':
      case 'message_edited':
      case 'message_deleted':
      case 'member_joined':
      case 'member_left':
        // The cursor already prevents repeats; this guards against any that slip through a reconnect: one (room, seq)
        // of the log is emitted once, whatever its kind.
        if (frame.seq <= (this.lastSeq.get(frame.room) ?? 0)) return;
        this.lastSeq.set(frame.room, frame.seq);
        if (frame.type === 'message') this.emit('message', frame);
        else if (frame.type === 'message_edited') this.emit('edit', frame);
        else if (frame.type === 'message_deleted') this.emit('delete', frame);
        else if (frame.type === 'member_joined') this.emit('member_joined', frame);
        else this.emit('member_left', frame);
        return;
      case 'presence':
        this.emit('presence', frame);
        return;
      case 'typing':
        this.emit('typing', frame);
        return;
      case 'ack':
      case 'error': {
        if (frame.clientMsgId === undefined) return;
        const pending = this.acks.get(frame.clientMsgId);
        if (!pending) return;
        this.acks.delete(frame.clientMsgId);
        if (frame.type === 'ack') pending.resolve();
        else pending.reject(new SendError(frame.code, frame.message, typeof frame.retryAfterMs === 'number' ? frame.retryAfterMs : undefined));
        return;
      }
    }
  }

  /** Sends queued messages one by one, in order, while connected. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0 && this.status.state === 'open') {
        const next = this.queue[0]!;
        try {
          await this.deliver(next);
          this.queue.shift();
          next.resolve();
        } catch (error) {
          const code = error instanceof SendError ? error.code : 'unavailable';
          if (FATAL_SEND_CODES.has(code)) {
            this.queue.shift();
            next.reject(error as Error);
            continue;
          }
          // Kept at the head of the queue with its clientMsgId; retried after a pause or the next reconnect.
          // The server's hint when it gave one (bounded: a hostile or confused server cannot park the queue), else a
          // second for a rate limit and a jittered backoff for the rest.
          const hint = error instanceof SendError ? error.retryAfterMs : undefined;
          const wait =
            hint !== undefined && hint >= 0
              ? Math.min(hint, MAX_RETRY_HINT_MS)
              : code === 'rate_limited'
                ? 1_000
                : backoffDelay(1, this.options.backoff ?? DEFAULT_BACKOFF, this.options.random);
          setTimeout(() => this.pumpNow(), wait);
          return;
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private async deliver(send: PendingSend): Promise<void> {
    const connection = this.connection;
    const connectionNumber = this.connectionNumber;
    const { onSendAttempt } = this.options;
    const { room, clientMsgId } = send;
    const sent = (via: 'websocket' | 'http') => {
      const attempt = ++send.attempts;
      onSendAttempt?.({ type: 'sent', room, clientMsgId, text: send.text, attempt, via, ...(via === 'websocket' ? { connection: connectionNumber } : {}) });
      return (error?: SendError) => onSendAttempt?.({ type: 'settled', room, clientMsgId, attempt, ...(error ? { error: { code: error.code, message: error.message } } : {}) });
    };
    if (connection?.sendFrame) {
      const { ackTimeoutMs } = this.liveness;
      // Sent first: a frame that cannot go out leaves no ack waiting and no timer armed (acks arrive asynchronously,
      // so none can come before the entry below exists).
      if (!connection.sendFrame({ type: 'send', room: send.room, clientMsgId: send.clientMsgId, text: send.text })) {
        throw new SendError('unavailable', 'not connected');
      }
      const settled = sent('websocket');
      const acked = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.acks.delete(send.clientMsgId);
          reject(new SendError('unavailable', 'no ack in time'));
          // Resending on a connection that does not answer would only queue it behind the first: the connection is
          // taken for dead, and the send, still at the head of the queue, goes out on the next one with the same
          // clientMsgId (the server stores it once).
          if (this.connection === connection) connection.close(`no ack within ${ackTimeoutMs} ms: the connection looks dead`);
        }, ackTimeoutMs);
        const settle = () => clearTimeout(timer);
        this.acks.set(send.clientMsgId, {
          resolve: () => {
            settle();
            resolve();
          },
          reject: (error) => {
            settle();
            reject(error);
          },
        });
      });
      return acked.then(
        () => settled(),
        (error: SendError) => {
          settled(error);
          throw error;
        },
      );
    }
    const fetcher = this.options.fetch ?? globalThis.fetch.bind(globalThis);
    const url = new URL(`/api/rooms/${send.room}/messages`, this.baseUrl());
    const token = await this.token();
    const settled = sent('http');
    const refusal = await withDeadline(this.liveness.requestTimeoutMs, async (signal) => {
      const response = await fetcher(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ clientMsgId: send.clientMsgId, text: send.text }),
        signal,
      });
      if (response.status === 202) return undefined;
      const body = (await response.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
      const retryAfter = Number(response.headers.get('retry-after') ?? NaN);
      return new SendError(body.error?.code ?? 'unavailable', body.error?.message ?? `HTTP ${response.status}`, Number.isFinite(retryAfter) ? retryAfter * 1000 : undefined);
    }).catch((error: unknown) => new SendError('unavailable', `network error: ${(error as Error).message}`));
    settled(refusal);
    if (refusal) throw refusal;
  }
}
