import { disconnectForStatus, type Disconnect } from '@chat/protocol/disconnect';
import type { StreamEvent } from '@chat/protocol';
import type { ConnectParams, TransportConnection, TransportHandlers } from './types';
import { streamUrl } from './types';

const POLL_TIMEOUT_SECONDS = 25;
/** The first poll returns quickly, so that a working transport shows as open at once. */
const FIRST_POLL_TIMEOUT_SECONDS = 1;

/** Long polling: one request after another, each resuming from the cursor the last one returned. */
export function connectLongPoll(params: ConnectParams, handlers: TransportHandlers): TransportConnection {
  const abort = new AbortController();
  let established = false;
  let closed = false;
  let cursor = params.cursor;
  const finish = (disconnect: Disconnect | undefined, reason: string) => {
    if (closed) return;
    closed = true;
    abort.abort();
    handlers.onClose({ disconnect, reason, established });
  };

  void (async () => {
    while (!closed) {
      const url = streamUrl(params.baseUrl, '/poll', { rooms: params.rooms?.join(','), cursor, timeout: String(established ? POLL_TIMEOUT_SECONDS : FIRST_POLL_TIMEOUT_SECONDS) });
      const response = await params.fetch(url, { headers: { authorization: `Bearer ${params.token}` }, signal: abort.signal });
      if (response.status !== 200) return finish(disconnectForStatus(response.status), `poll answered ${response.status}`);
      const body = (await response.json()) as { events: StreamEvent[]; cursor: string };
      if (!established) {
        established = true;
        handlers.onOpen();
      }
      for (const event of body.events) handlers.onFrame(event);
      cursor = body.cursor;
      handlers.onCursor(body.cursor);
    }
  })().catch((error: unknown) => finish(undefined, `poll failed: ${(error as Error).message}`));

  return {
    kind: 'poll',
    close() {
      finish(undefined, 'closed by client');
    },
  };
}
