import { disconnectForStatus, type Disconnect } from '@chat/protocol/disconnect';
import type { StreamEvent } from '@chat/protocol';
import { withDeadline } from '../liveness';
import type { ConnectParams, TransportConnection, TransportHandlers } from './types';
import { streamUrl } from './types';

/** The first poll returns quickly, so that a working transport shows as open at once. */
const FIRST_POLL_TIMEOUT_SECONDS = 1;

/**
 * Long polling: one request after another, each resuming from the cursor the
 * last one returned. A poll the server has not answered within its own timeout
 * plus a grace is abandoned: the server (or a path to it) is gone.
 */
export function connectLongPoll(params: ConnectParams, handlers: TransportHandlers): TransportConnection {
  const abort = new AbortController();
  let established = false;
  let closed = false;
  let cursor = params.cursor;
  const finish = (disconnect: Disconnect | undefined, reason: string) => {
    if (closed) return;
    closed = true;
    abort.abort(new Error(reason));
    handlers.onClose({ disconnect, reason, established });
  };

  void (async () => {
    while (!closed) {
      const timeoutSeconds = established ? params.liveness.pollTimeoutSeconds : FIRST_POLL_TIMEOUT_SECONDS;
      const url = streamUrl(params.baseUrl, '/poll', { rooms: params.rooms?.join(','), cursor, timeout: String(timeoutSeconds) });
      const answer = await withDeadline(
        timeoutSeconds * 1000 + params.liveness.pollGraceMs,
        async (signal) => {
          const response = await params.fetch(url, { headers: { authorization: `Bearer ${params.token}` }, signal });
          return { status: response.status, body: response.status === 200 ? ((await response.json()) as { events: StreamEvent[]; cursor: string }) : undefined };
        },
        abort.signal,
      );
      if (closed) return;
      if (!answer.body) return finish(disconnectForStatus(answer.status), `poll answered ${answer.status}`);
      if (!established) {
        established = true;
        handlers.onOpen();
      }
      for (const event of answer.body.events) handlers.onFrame(event);
      cursor = answer.body.cursor;
      handlers.onCursor(answer.body.cursor);
    }
  })().catch((error: unknown) => finish(undefined, `poll failed: ${(error as Error).message}`));

  return {
    kind: 'poll',
    close(reason = 'closed by client') {
      finish(undefined, reason);
    },
  };
}
