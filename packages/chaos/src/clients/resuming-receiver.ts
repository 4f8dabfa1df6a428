import type { TransportName } from '@chat/protocol';
import { monotonicNow, type History, type ResumeKind } from '../history';
import { backoffDelay, DEFAULT_BACKOFF, sleep, type BackoffOptions } from './backoff';
import { ConnectionRecorder, type Identity, type RecordingClient } from './connection-recorder';

export interface ReceiverOptions {
  history: History;
  /** This client's name in the history. */
  client: string;
  identity: Identity;
  /** Gateways (or the ingress); each connection picks one at random. */
  baseUrls: readonly string[];
  /** The stream's rooms; left out, every room of the user, including rooms joined while it is open. */
  rooms?: readonly string[];
  /** The first connection resumes from this; without it, the stream starts from now. */
  cursor?: string;
  backoff?: BackoffOptions;
  /** A connection that stayed open this long resets the backoff (a reconnect storm does not start again at zero). */
  healthyAfterMs?: number;
  /** Opening a connection, up to the stream's first statement of position, must finish within this. */
  openTimeoutMs?: number;
  random?: () => number;
}

/** What one connection attempt gets from the loop. */
export interface ConnectionPlan {
  connection: string;
  baseUrl: string;
  cursor: string | undefined;
  /** Aborted when the client stops. */
  signal: AbortSignal;
  /** Call once the server accepted the stream: records the opening and returns the connection's recorder. */
  opened(): ConnectionRecorder;
}

/**
 * A receiver that stays connected by itself: after every end of a connection it waits a jittered, doubling backoff
 * and opens the next one from the last cursor it saw, on any of the gateways. The transports differ only in
 * `connectOnce`: one connection from opening to its end.
 */
export abstract class ResumingReceiver implements RecordingClient {
  abstract readonly transport: TransportName;
  readonly client: string;
  readonly user: string;
  /** The last cursor seen: every connection after the first resumes from it. */
  cursor: string | undefined;
  /** Connections opened so far. */
  connections = 0;
  /** A connection is open now. */
  connected = false;
  protected readonly options: Required<Omit<ReceiverOptions, 'rooms' | 'cursor'>> & Pick<ReceiverOptions, 'rooms' | 'cursor'>;
  protected readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  private firstOpen: { resolve: () => void; promise: Promise<void> };

  constructor(options: ReceiverOptions) {
    this.options = {
      backoff: DEFAULT_BACKOFF,
      healthyAfterMs: 3_000,
      openTimeoutMs: 10_000,
      random: Math.random,
      ...options,
    };
    this.client = options.client;
    this.user = options.identity.user.id;
    this.cursor = options.cursor;
    let resolve = () => {};
    const promise = new Promise<void>((done) => (resolve = done));
    this.firstOpen = { resolve, promise };
  }

  /** Resolves once the first connection is open; rejects if none opened within three open timeouts. */
  start(): Promise<void> {
    this.loop ??= this.run();
    const deadlineMs = this.options.openTimeoutMs * 3;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.client} did not connect within ${deadlineMs} ms`)), deadlineMs);
    });
    return Promise.race([this.firstOpen.promise, timedOut])
      .catch(async (error: unknown) => {
        // A receiver that never connected stops trying, rather than reconnecting for ever behind a failed start.
        this.stopping.abort();
        await this.loop;
        throw error;
      })
      .finally(() => clearTimeout(timer));
  }

  async stop(): Promise<void> {
    if (this.stopping.signal.aborted) return;
    this.options.history.record({ op: 'client-stopped', client: this.client });
    this.stopping.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.stopping.signal.aborted) {
      const connection = `${this.client}-${this.connections + 1}`;
      const resume: ResumeKind = this.cursor ? 'last' : 'none';
      const cursor = this.cursor;
      let recorder: ConnectionRecorder | undefined;
      let openedAt = 0;
      const plan: ConnectionPlan = {
        connection,
        baseUrl: this.options.baseUrls[Math.floor(this.options.random() * this.options.baseUrls.length)]!,
        cursor,
        signal: this.stopping.signal,
        opened: () => {
          this.connections++;
          this.connected = true;
          openedAt = monotonicNow();
          recorder = ConnectionRecorder.open(
            this.options.history,
            { client: this.client, user: this.user, connection, transport: this.transport },
            { rooms: this.options.rooms ?? null, resume, cursor },
          );
          this.firstOpen.resolve();
          return recorder;
        },
      };
      try {
        await this.connectOnce(plan);
      } catch {
        // A failed attempt is like any other end of a connection: back off and resume.
      }
      this.connected = false;
      recorder?.close(this.stopping.signal.aborted ? 'stopped' : 'ended');
      if (this.stopping.signal.aborted) break;
      if (recorder && monotonicNow() - openedAt >= this.options.healthyAfterMs) attempt = 0;
      await sleep(backoffDelay(attempt++, this.options.backoff, this.options.random), this.stopping.signal);
    }
  }

  /** Notes a cursor the server sent: the next connection resumes from it. */
  protected noteCursor(cursor: unknown): void {
    if (typeof cursor === 'string' && cursor !== '') this.cursor = cursor;
  }

  protected authorization(): Record<string, string> {
    return { authorization: `Bearer ${this.options.identity.token}` };
  }

  /** The stream's URL at a gateway, with its rooms and any other parameters. */
  protected streamUrl(baseUrl: string, path: string, params: Record<string, string | undefined>): URL {
    const url = new URL(path, baseUrl);
    if (this.options.rooms) url.searchParams.set('rooms', this.options.rooms.join(','));
    for (const [key, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(key, value);
    return url;
  }

  /** One connection, from its opening to its end: resolves (or rejects) when it is over. */
  protected abstract connectOnce(plan: ConnectionPlan): Promise<void>;
}
