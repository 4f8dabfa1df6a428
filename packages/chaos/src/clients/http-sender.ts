import { type History, type SendOutcomeKind, outcomeOfHttpStatus } from '../history';
import { backoffDelay, DEFAULT_BACKOFF, sleep, type BackoffOptions } from './backoff';
import type { Identity, RecordingClient } from './connection-recorder';
import { SendWindow, type SendResult } from './send-window';

export interface HttpSenderOptions {
  history: History;
  client: string;
  identity: Identity;
  /** Gateways (or the ingress); each attempt picks one at random. */
  baseUrls: readonly string[];
  /** Sends in flight at once; 1 is a sequential sender. */
  window?: number;
  /** No answer by then: the outcome is unknown. */
  requestTimeoutMs?: number;
  maxAttempts?: number;
  backoff?: BackoffOptions;
  random?: () => number;
}

/**
 * `POST /api/rooms/{id}/messages`: 202 is the ack; a 4xx a refusal (a 429 retried after its Retry-After); a 5xx, a
 * timeout or a network error indeterminate, retried with the same clientMsgId after a jittered backoff.
 */
export class HttpSender implements RecordingClient {
  readonly client: string;
  readonly user: string;
  private readonly window: SendWindow;
  private readonly stopping = new AbortController();
  private sent = 0;

  constructor(private readonly options: HttpSenderOptions) {
    this.client = options.client;
    this.user = options.identity.user.id;
    this.window = new SendWindow(options.window ?? 1);
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  stop(): Promise<void> {
    if (!this.stopping.signal.aborted) {
      this.options.history.record({ op: 'client-stopped', client: this.client });
      this.stopping.abort();
    }
    return Promise.resolve();
  }

  send(room: string, text: string, clientMsgId = `${this.client}-${++this.sent}`): Promise<SendResult> {
    return this.window.run(() => this.sendWithRetries(room, text, clientMsgId));
  }

  private async sendWithRetries(room: string, text: string, clientMsgId: string): Promise<SendResult> {
    const { history, maxAttempts = 8, backoff = DEFAULT_BACKOFF, random = Math.random } = this.options;
    let result: SendResult = 'unsent';
    for (let attempt = 1; attempt <= maxAttempts && !this.stopping.signal.aborted; attempt++) {
      const sequential = this.window.size === 1;
      history.record({ op: 'send', client: this.client, user: this.user, via: 'http', room, clientMsgId, text, sequential, attempt });
      const { outcome, code, retryAfterMs } = await this.post(room, clientMsgId, text);
      history.record({ op: 'send-outcome', client: this.client, room, clientMsgId, attempt, outcome, code });
      result = outcome;
      if (outcome === 'ack') return 'ack';
      // A 429 is retried after its Retry-After whatever its body says (a proxy's page has no error code).
      if (outcome === 'refused' && code !== 'rate_limited' && retryAfterMs === undefined) return 'refused';
      if (attempt === maxAttempts) break;
      await sleep(retryAfterMs ?? backoffDelay(attempt - 1, backoff, random), this.stopping.signal);
    }
    return result;
  }

  private async post(room: string, clientMsgId: string, text: string): Promise<{ outcome: SendOutcomeKind; code: string; retryAfterMs?: number }> {
    const { baseUrls, identity, requestTimeoutMs = 10_000, random = Math.random } = this.options;
    const baseUrl = baseUrls[Math.floor(random() * baseUrls.length)]!;
    try {
      const response = await fetch(new URL(`/api/rooms/${encodeURIComponent(room)}/messages`, baseUrl), {
        method: 'POST',
        headers: { authorization: `Bearer ${identity.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ clientMsgId, text }),
        signal: AbortSignal.any([AbortSignal.timeout(requestTimeoutMs), this.stopping.signal]),
      });
      const body = await response.text();
      let code = String(response.status);
      try {
        code = (JSON.parse(body) as { error?: { code?: string } }).error?.code ?? code;
      } catch {
        // not JSON (a proxy's page): the status says it
      }
      const retryAfter = Number(response.headers.get('retry-after'));
      return { outcome: outcomeOfHttpStatus(response.status), code, ...(response.status === 429 && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}) };
    } catch (error) {
      return { outcome: 'indeterminate', code: (error as Error).name === 'TimeoutError' ? 'timeout' : 'network' };
    }
  }
}
