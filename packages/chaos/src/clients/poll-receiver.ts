import type { ConnectionRecorder } from './connection-recorder';
import { ResumingReceiver, type ConnectionPlan, type ReceiverOptions } from './resuming-receiver';

export interface PollReceiverOptions extends ReceiverOptions {
  /** The `timeout` of each poll (1..30 s). */
  pollTimeoutSeconds?: number;
}

/**
 * A raw long-poll receiver. Its "connection" in the history is a run of answered polls, each resuming from the last
 * answer's cursor; a poll that fails (an error status, a network error, no answer by its deadline) ends the run, and
 * the next run resumes from the last cursor after the backoff. Every answer's cursor is recorded as the stream's
 * position, so a cursor that runs ahead of the events it came with shows.
 */
export class PollReceiver extends ResumingReceiver {
  readonly transport = 'poll';
  private readonly pollTimeoutSeconds: number;

  constructor(options: PollReceiverOptions) {
    super(options);
    this.pollTimeoutSeconds = options.pollTimeoutSeconds ?? 5;
  }

  protected async connectOnce(plan: ConnectionPlan): Promise<void> {
    let recorder: ConnectionRecorder | undefined;
    let cursor = plan.cursor;
    let reason = 'stopped';
    try {
      while (!plan.signal.aborted) {
        const url = this.streamUrl(plan.baseUrl, '/poll', { cursor, timeout: String(this.pollTimeoutSeconds) });
        // The server answers by its timeout; past that and the open timeout, the poll is lost.
        const deadline = AbortSignal.timeout(this.pollTimeoutSeconds * 1000 + this.options.openTimeoutMs);
        const response = await fetch(url, { headers: this.authorization(), signal: AbortSignal.any([plan.signal, deadline]) });
        const text = await response.text();
        if (response.status !== 200) {
          reason = `status ${response.status}`;
          return;
        }
        const body = JSON.parse(text) as { events: unknown[]; cursor: string };
        recorder ??= plan.opened();
        for (const event of body.events) {
          const frame = recorder.frame(JSON.stringify(event));
          this.noteCursor(frame?.cursor);
        }
        recorder.positions(body.cursor);
        this.noteCursor(body.cursor);
        cursor = body.cursor;
      }
    } catch (error) {
      if (!plan.signal.aborted) reason = (error as Error).message;
    } finally {
      recorder?.close(reason);
    }
  }
}
