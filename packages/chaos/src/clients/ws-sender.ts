import type WebSocket from 'ws';
import { monotonicNow, outcomeOfErrorCode, type SendOutcomeKind } from '../history';
import { backoffDelay, sleep } from './backoff';
import { SendWindow, type SendResult } from './send-window';
import { WsReceiver, type WsReceiverOptions } from './ws-receiver';

export interface WsSenderOptions extends WsReceiverOptions {
  /** Sends in flight at once on the connection; 1 is a sequential sender. */
  window?: number;
  /** No ack or error by then: the outcome is unknown, and the connection is replaced (it may be frozen). */
  ackTimeoutMs?: number;
  maxAttempts?: number;
  /** A send waits this long for an open connection before it gives up, unsent. */
  sendDeadlineMs?: number;
}

interface AttemptOutcome {
  outcome: SendOutcomeKind;
  code?: string;
  retryAfterMs?: number;
}

/**
 * A WebSocket sender that is also a receiver of its stream: `send` frames with several in flight (its window), each
 * answered by an `ack` or an `error` carrying its clientMsgId. An attempt whose connection closes, or whose ack does
 * not come in time, is indeterminate; it is retried with the same clientMsgId once a new connection is ready.
 */
export class WsSender extends WsReceiver {
  private readonly window: SendWindow;
  private readonly ackTimeoutMs: number;
  private readonly maxAttempts: number;
  private readonly sendDeadlineMs: number;
  private readonly pending = new Map<string, (outcome: AttemptOutcome) => void>();
  private waitingForReady: Array<() => void> = [];
  private sent = 0;

  constructor(options: WsSenderOptions) {
    super(options);
    this.window = new SendWindow(options.window ?? 1);
    this.ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
    this.maxAttempts = options.maxAttempts ?? 8;
    this.sendDeadlineMs = options.sendDeadlineMs ?? 30_000;
  }

  /** Sends one message (retrying as needed) and resolves with how it ended. */
  send(room: string, text: string, clientMsgId = `${this.client}-${++this.sent}`): Promise<SendResult> {
    return this.window.run(() => this.sendWithRetries(room, text, clientMsgId));
  }

  private async sendWithRetries(room: string, text: string, clientMsgId: string): Promise<SendResult> {
    const { history } = this.options;
    const deadline = monotonicNow() + this.sendDeadlineMs;
    let result: SendResult = 'unsent';
    let failed: WebSocket | undefined;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      // Never again on the socket an attempt failed on: it is closing, and would fail the next one at once.
      const socket = await this.readySocket(deadline, failed);
      if (!socket || !this.currentConnection) return result;
      const sequential = this.window.size === 1;
      history.record({ op: 'send', client: this.client, user: this.user, connection: this.currentConnection, via: 'websocket', room, clientMsgId, text, sequential, attempt });
      const outcome = await this.attempt(socket, { type: 'send', room, clientMsgId, text });
      history.record({ op: 'send-outcome', client: this.client, room, clientMsgId, attempt, outcome: outcome.outcome, ...(outcome.code ? { code: outcome.code } : {}) });
      result = outcome.outcome;
      if (outcome.outcome === 'ack') return 'ack';
      if (outcome.code === 'timeout' || outcome.code === 'closed') failed = socket;
      // The gateway said it could not (`unavailable`: Kafka out of reach): the same connection, after a backoff.
      else if (outcome.outcome === 'indeterminate') await sleep(backoffDelay(attempt - 1, this.options.backoff, this.options.random), this.stopping.signal);
      // Resending on a connection that swallowed a send would likely be swallowed too: reconnect first.
      if (outcome.code === 'timeout') socket.terminate();
      if (outcome.outcome === 'refused') {
        if (outcome.code !== 'rate_limited') return 'refused';
        await sleep(outcome.retryAfterMs ?? 1_000, this.stopping.signal);
      }
    }
    return result;
  }

  private attempt(socket: WebSocket, frame: { type: 'send'; room: string; clientMsgId: string; text: string }): Promise<AttemptOutcome> {
    return new Promise((resolve) => {
      const finish = (outcome: AttemptOutcome) => {
        clearTimeout(timer);
        this.pending.delete(frame.clientMsgId);
        resolve(outcome);
      };
      const timer = setTimeout(() => finish({ outcome: 'indeterminate', code: 'timeout' }), this.ackTimeoutMs);
      this.pending.set(frame.clientMsgId, finish);
      socket.send(JSON.stringify(frame), (error) => {
        if (error) finish({ outcome: 'indeterminate', code: 'closed' });
      });
    });
  }

  /** An open socket (not `not`) once a connection is ready; undefined past the deadline or once stopped. */
  private async readySocket(deadline: number, not?: WebSocket): Promise<WebSocket | undefined> {
    const usable = () => this.socket !== undefined && this.socket !== not && this.socket.readyState === this.socket.OPEN;
    while (!usable() && !this.stopping.signal.aborted) {
      const left = deadline - monotonicNow();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        // However it ends (ready, the deadline, a stop), it leaves no listener and no waker behind.
        const done = () => {
          clearTimeout(timer);
          this.stopping.signal.removeEventListener('abort', done);
          this.waitingForReady = this.waitingForReady.filter((wake) => wake !== done);
          resolve();
        };
        const timer = setTimeout(done, left);
        this.stopping.signal.addEventListener('abort', done, { once: true });
        this.waitingForReady.push(done);
      });
    }
    return this.stopping.signal.aborted ? undefined : this.socket;
  }

  protected override onReady(): void {
    const waiting = this.waitingForReady;
    this.waitingForReady = [];
    for (const wake of waiting) wake();
  }

  protected override onFrame(frame: Record<string, unknown>): void {
    if (typeof frame.clientMsgId !== 'string') return;
    const finish = this.pending.get(frame.clientMsgId);
    if (!finish) return;
    if (frame.type === 'ack') finish({ outcome: 'ack' });
    else if (frame.type === 'error' && typeof frame.code === 'string') {
      finish({ outcome: outcomeOfErrorCode(frame.code), code: frame.code, ...(typeof frame.retryAfterMs === 'number' ? { retryAfterMs: frame.retryAfterMs } : {}) });
    }
  }

  protected override onClosed(): void {
    for (const finish of [...this.pending.values()]) finish({ outcome: 'indeterminate', code: 'closed' });
  }
}
