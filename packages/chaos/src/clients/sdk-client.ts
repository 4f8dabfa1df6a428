import WebSocket from 'ws';
import { ChatClient, type ConnectionEvent, type LivenessOptions, type SendAttemptEvent, type BackoffOptions as SdkBackoff } from '@chat/client';
import type { ServerFrame, TransportName } from '@chat/protocol';
import { outcomeOfErrorCode, type History } from '../history';
import { sleep } from './backoff';
import { ConnectionRecorder, type Identity, type RecordingClient } from './connection-recorder';
import type { SendResult } from './send-window';

export interface SdkClientOptions {
  history: History;
  client: string;
  identity: Identity;
  /** The one transport the SDK may use (its fallback list is just this). */
  transport: TransportName;
  /** Gateways (or the ingress), taken in turn by the SDK's requests: each reconnection goes to the next one. */
  baseUrls: readonly string[];
  rooms?: readonly string[];
  /** The SDK's timings; short ones by default, so that a cut or a pause costs a run seconds, not half a minute. */
  liveness?: Partial<LivenessOptions>;
  backoff?: SdkBackoff;
  openTimeoutMs?: number;
  /** A send that has not ended by then (the SDK retries without end) is given up: indeterminate if it went out. */
  sendDeadlineMs?: number;
}

const FAST_LIVENESS: Partial<LivenessOptions> = {
  pingIntervalMs: 1_000,
  pongTimeoutMs: 1_000,
  sseReadTimeoutMs: 3_000,
  pollTimeoutSeconds: 2,
  pollGraceMs: 2_000,
  requestTimeoutMs: 5_000,
  ackTimeoutMs: 5_000,
  healthyAfterMs: 3_000,
};

/**
 * The real SDK (`@chat/client`) on one forced transport, recorded: its hooks report each connection (opened, with the
 * cursor it resumed from; the long poll's answer cursors; closed), every frame before the SDK's own dedupe, and every
 * attempt of a send with its end. The history reads as a raw recorder's; what is judged is the SDK's own resume,
 * liveness and retries. The SDK sends one message at a time, in order: its sends are sequential.
 */
export class SdkClient implements RecordingClient {
  readonly client: string;
  readonly user: string;
  readonly transport: TransportName;
  /** Connections opened so far. */
  connections = 0;
  /** A connection is open now. */
  connected = false;
  readonly sdk: ChatClient;
  private readonly recorders = new Map<number, ConnectionRecorder>();
  /** The last attempt's outcome per clientMsgId, for a send given up at its deadline. */
  private readonly lastOutcome = new Map<string, 'refused' | 'indeterminate'>();
  private readonly stopping = new AbortController();
  private firstOpen: () => void = () => undefined;
  private sent = 0;

  constructor(private readonly options: SdkClientOptions) {
    this.client = options.client;
    this.user = options.identity.user.id;
    this.transport = options.transport;
    let requests = 0;
    this.sdk = new ChatClient({
      baseUrl: () => options.baseUrls[requests++ % options.baseUrls.length]!,
      getToken: () => options.identity.token,
      transports: [options.transport],
      ...(options.rooms ? { rooms: [...options.rooms] } : {}),
      backoff: options.backoff ?? { initialMs: 50, maxMs: 1_000 },
      openTimeoutMs: options.openTimeoutMs ?? 5_000,
      liveness: { ...FAST_LIVENESS, ...options.liveness },
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      onConnection: (event) => this.onConnection(event),
      onRawFrame: (frame, _transport, connection) => this.onRawFrame(frame, connection),
      onSendAttempt: (event) => this.onSendAttempt(event),
    });
  }

  /** Resolves once the first connection is open; rejects (and stops the SDK) if none opened in time. */
  async start(): Promise<void> {
    const deadlineMs = (this.options.openTimeoutMs ?? 5_000) * 3;
    const opened = new Promise<void>((resolve) => (this.firstOpen = resolve));
    this.sdk.start();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.client} did not connect within ${deadlineMs} ms`)), deadlineMs);
    });
    try {
      await Promise.race([opened, timedOut]);
    } catch (error) {
      this.sdk.stop();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  stop(): Promise<void> {
    if (!this.stopping.signal.aborted) {
      this.options.history.record({ op: 'client-stopped', client: this.client });
      this.stopping.abort();
      this.sdk.stop();
    }
    return Promise.resolve();
  }

  /** Sends through the SDK (which queues and retries with the same clientMsgId) and resolves with how it ended. */
  async send(room: string, text: string, clientMsgId = `${this.client}-${++this.sent}`): Promise<SendResult> {
    const given = this.sdk.send(room, text, clientMsgId).then(
      (): SendResult => 'ack',
      (): SendResult => 'refused',
    );
    const ended = new AbortController();
    const deadline = sleep(this.options.sendDeadlineMs ?? 30_000, AbortSignal.any([this.stopping.signal, ended.signal])).then(
      (): SendResult => this.lastOutcome.get(clientMsgId) ?? 'unsent',
    );
    try {
      return await Promise.race([given, deadline]);
    } finally {
      ended.abort();
    }
  }

  private onConnection(event: ConnectionEvent): void {
    const name = `${this.client}-${event.connection}`;
    if (event.type === 'opened') {
      this.connections++;
      this.connected = true;
      const recorder = ConnectionRecorder.open(
        this.options.history,
        { client: this.client, user: this.user, connection: name, transport: event.transport },
        { rooms: this.options.rooms ?? null, resume: event.cursor ? 'last' : 'none', cursor: event.cursor },
      );
      this.recorders.set(event.connection, recorder);
      this.firstOpen();
    } else if (event.type === 'position') {
      this.recorders.get(event.connection)?.positions(event.cursor);
    } else {
      const recorder = this.recorders.get(event.connection);
      if (!recorder) return;
      this.recorders.delete(event.connection);
      this.connected = false;
      recorder.close(this.stopping.signal.aborted ? 'stopped' : event.reason);
    }
  }

  private onRawFrame(frame: ServerFrame, connection: number): void {
    const recorder = this.recorders.get(connection);
    if (!recorder) return;
    recorder.frame(JSON.stringify(frame));
    if (frame.type === 'ready') recorder.positions(frame.cursor);
  }

  private onSendAttempt(event: SendAttemptEvent): void {
    const { history } = this.options;
    if (event.type === 'sent') {
      history.record({
        op: 'send',
        client: this.client,
        user: this.user,
        ...(event.connection !== undefined ? { connection: `${this.client}-${event.connection}` } : {}),
        via: event.via,
        room: event.room,
        clientMsgId: event.clientMsgId,
        text: event.text,
        sequential: true,
        attempt: event.attempt,
      });
      return;
    }
    const outcome = event.error ? outcomeOfErrorCode(event.error.code) : 'ack';
    if (outcome !== 'ack') this.lastOutcome.set(event.clientMsgId, outcome);
    history.record({
      op: 'send-outcome',
      client: this.client,
      room: event.room,
      clientMsgId: event.clientMsgId,
      attempt: event.attempt,
      outcome,
      ...(event.error ? { code: event.error.code, detail: event.error.message } : {}),
    });
  }
}
