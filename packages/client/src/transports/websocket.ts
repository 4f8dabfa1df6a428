import { disconnectForCloseCode, disconnectForStatus, type Disconnect } from '@chat/protocol/disconnect';
import type { ClientFrame, ServerFrame } from '@chat/protocol';
import { SilenceWatch } from '../liveness';
import type { ConnectParams, TransportConnection, TransportHandlers } from './types';
import { streamUrl } from './types';

/**
 * Lets go of a socket at once. `ws` (Node) drops the TCP connection; a
 * browser's close() waits a while for the server's half of the handshake,
 * which a frozen server never sends, but its frames are ignored from here on.
 */
function abandon(socket: WebSocket): void {
  const terminate = (socket as { terminate?: () => void }).terminate;
  if (typeof terminate === 'function') terminate.call(socket);
  else socket.close(1000);
}

/**
 * WebSocket with a single-use ticket in the URL (browsers cannot set headers
 * on the upgrade). Open once the server's `ready` frame arrives; from then on
 * pinged after each quiet interval, and given up when it stops answering.
 */
export function connectWebSocket(params: ConnectParams, handlers: TransportHandlers): TransportConnection {
  const ticketRequest = new AbortController();
  let socket: WebSocket | undefined;
  let watch: SilenceWatch | undefined;
  let established = false;
  let closed = false;
  const finish = (disconnect: Disconnect | undefined, reason: string) => {
    if (closed) return;
    closed = true;
    clearTimeout(openTimer);
    watch?.stop();
    ticketRequest.abort();
    handlers.onClose({ disconnect, reason, established });
  };
  const drop = (reason: string) => {
    if (socket && !closed) abandon(socket);
    finish(undefined, reason);
  };
  const openTimer = setTimeout(() => drop('websocket did not open in time'), params.openTimeoutMs);
  const sendFrame = (frame: ClientFrame) => {
    if (closed || !socket || socket.readyState !== 1) return false;
    socket.send(JSON.stringify(frame));
    return true;
  };

  void (async () => {
    const response = await params.fetch(new URL('/api/tickets', params.baseUrl), {
      method: 'POST',
      headers: { authorization: `Bearer ${params.token}` },
      signal: ticketRequest.signal,
    });
    if (!response.ok) return finish(disconnectForStatus(response.status), `ticket refused: ${response.status}`);
    const { ticket } = (await response.json()) as { ticket: string };
    if (closed) return;
    const url = streamUrl(params.baseUrl, '/ws', { ticket, rooms: params.rooms?.join(','), cursor: params.cursor });
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    socket = new params.WebSocket(url.toString());
    socket.onmessage = (message) => {
      if (closed) return;
      watch?.heard();
      const frame = JSON.parse(String(message.data)) as ServerFrame;
      if (frame.type === 'ready' && !established) {
        established = true;
        clearTimeout(openTimer);
        const { pingIntervalMs, pongTimeoutMs } = params.liveness;
        watch = new SilenceWatch({ quietMs: pingIntervalMs, answerMs: pongTimeoutMs, probe: () => sendFrame({ type: 'ping' }) }, drop);
        handlers.onOpen();
      }
      handlers.onFrame(frame);
    };
    socket.onclose = (event) => finish(disconnectForCloseCode(event.code), event.reason || 'websocket closed');
    socket.onerror = () => undefined; // onclose follows with the code
  })().catch((error: unknown) => finish(undefined, `websocket failed: ${(error as Error).message}`));

  return {
    kind: 'websocket',
    sendFrame,
    close(reason) {
      if (reason === undefined) {
        socket?.close(1000);
        finish(undefined, 'closed by client');
      } else drop(reason);
    },
  };
}
