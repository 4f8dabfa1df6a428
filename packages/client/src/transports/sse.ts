import { disconnectForErrorCode, disconnectForStatus, type Disconnect } from '@chat/protocol/disconnect';
import type { ServerFrame } from '@chat/protocol';
import { SilenceWatch } from '../liveness';
import { SseParser } from '../sse-parser';
import type { ConnectParams, TransportConnection, TransportHandlers } from './types';
import { streamUrl } from './types';

/**
 * Server-Sent Events read over fetch, so the bearer token travels in a header
 * and the cursor in Last-Event-ID. A proxy that buffers the stream shows up as
 * no `ready` event within the open timeout: the transport counts as blocked.
 * Once open, the server's heartbeat comments keep bytes coming: a stream
 * silent for the read timeout is aborted.
 */
export function connectSse(params: ConnectParams, handlers: TransportHandlers): TransportConnection {
  const abort = new AbortController();
  let watch: SilenceWatch | undefined;
  let established = false;
  let closed = false;
  /** Said by the error event that ends the stream. */
  let said: Disconnect | undefined;
  const finish = (disconnect: Disconnect | undefined, reason: string) => {
    if (closed) return;
    closed = true;
    clearTimeout(openTimer);
    watch?.stop();
    abort.abort();
    handlers.onClose({ disconnect, reason, established });
  };
  const openTimer = setTimeout(() => finish(undefined, 'no events arrived: SSE looks blocked or buffered'), params.openTimeoutMs);

  void (async () => {
    const headers: Record<string, string> = { authorization: `Bearer ${params.token}`, accept: 'text/event-stream' };
    if (params.cursor) headers['last-event-id'] = params.cursor;
    const response = await params.fetch(streamUrl(params.baseUrl, '/sse', { rooms: params.rooms?.join(',') }), {
      headers,
      signal: abort.signal,
    });
    if (response.status !== 200 || !response.body) return finish(disconnectForStatus(response.status), `sse refused: ${response.status}`);
    const parser = new SseParser();
    const decoder = new TextDecoder();
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done || closed) break;
      watch?.heard();
      for (const event of parser.feed(decoder.decode(value, { stream: true }))) {
        if (!event.data) continue;
        const frame = JSON.parse(event.data) as ServerFrame;
        if (frame.type === 'error') said = disconnectForErrorCode(frame.code);
        else if (frame.type === 'ready' && !established) {
          established = true;
          clearTimeout(openTimer);
          watch = new SilenceWatch({ quietMs: params.liveness.sseReadTimeoutMs }, (reason) => finish(undefined, reason));
          handlers.onOpen();
        }
        handlers.onFrame(frame);
      }
    }
    finish(said, 'sse stream ended');
  })().catch((error: unknown) => finish(said, `sse failed: ${(error as Error).message}`));

  return {
    kind: 'sse',
    close(reason = 'closed by client') {
      finish(undefined, reason);
    },
  };
}
