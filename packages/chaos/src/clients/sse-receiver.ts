import type { ConnectionRecorder } from './connection-recorder';
import { ResumingReceiver, type ConnectionPlan, type ReceiverOptions } from './resuming-receiver';

export interface SseReceiverOptions extends ReceiverOptions {
  /** A stream silent this long (no event, no comment) is dead: two of the gateway's heartbeats and a margin. */
  readTimeoutMs?: number;
}

/** One event of the stream: its `id:`, `event:` and the `data:` lines joined. */
interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
}

/** Parses the blocks of an event stream (https://html.spec.whatwg.org/#event-stream-interpretation), comments aside. */
export function parseSseBlock(block: string): SseEvent | undefined {
  let id: string | undefined;
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return data.length > 0 ? { id, event, data: data.join('\n') } : undefined;
}

/**
 * A raw SSE receiver over fetch's streaming body: `/sse?rooms`, resuming with `Last-Event-ID` as an EventSource
 * would, but by hand, with a read timeout for a stream that goes silent.
 */
export class SseReceiver extends ResumingReceiver {
  readonly transport = 'sse';
  private readonly readTimeoutMs: number;

  constructor(options: SseReceiverOptions) {
    super(options);
    this.readTimeoutMs = options.readTimeoutMs ?? 35_000;
  }

  protected async connectOnce(plan: ConnectionPlan): Promise<void> {
    const controller = new AbortController();
    let reason: string | undefined;
    const abort = (why: string) => {
      reason ??= why;
      controller.abort();
    };
    const onStop = () => abort('stopped');
    plan.signal.addEventListener('abort', onStop, { once: true });
    // Until the ready event: the opening's deadline; from then on, the read timeout.
    let timer = setTimeout(() => abort('no ready event in time'), this.options.openTimeoutMs);
    let recorder: ConnectionRecorder | undefined;
    try {
      const headers: Record<string, string> = { ...this.authorization(), accept: 'text/event-stream' };
      if (plan.cursor) headers['last-event-id'] = plan.cursor;
      const response = await fetch(this.streamUrl(plan.baseUrl, '/sse', {}), { headers, signal: controller.signal });
      if (response.status !== 200 || !response.body) {
        reason = `status ${response.status}`;
        await response.text().catch(() => '');
        return;
      }
      recorder = plan.opened();
      const decoder = new TextDecoder();
      let buffer = '';
      let ready = false;
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        if (ready) {
          clearTimeout(timer);
          timer = setTimeout(() => abort(`silent for ${this.readTimeoutMs} ms`), this.readTimeoutMs);
        }
        buffer += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, '\n');
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const event = parseSseBlock(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (!event) continue;
          const frame = recorder.frame(event.data);
          this.noteCursor(event.id ?? frame?.cursor);
          if (frame?.type === 'ready' && typeof frame.cursor === 'string' && !ready) {
            ready = true;
            recorder.positions(frame.cursor);
            clearTimeout(timer);
            timer = setTimeout(() => abort(`silent for ${this.readTimeoutMs} ms`), this.readTimeoutMs);
          }
          if (frame?.type === 'error') reason ??= `error event ${String(frame.code)}`;
        }
      }
      reason ??= 'ended';
    } catch (error) {
      reason ??= (error as Error).message;
    } finally {
      clearTimeout(timer);
      plan.signal.removeEventListener('abort', onStop);
      recorder?.close(reason ?? 'ended');
    }
  }
}
