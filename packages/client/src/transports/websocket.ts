import { disconnectForCloseCode, disconnectForStatus, type Disconnect } from '@chat/protocol/disconnect';
import type { ServerFrame } from '@chat/protocol';
import type { ConnectParams, TransportConnection, TransportHandlers } from './types';
import { streamUrl } from './types';

/**
 * WebSocket with a single-use ticket in the URL (browsers cannot set headers
 * on the upgrade). Open once the server's `ready` frame arrives.
 */
export function connectWebSocket(params: ConnectParams, handlers: TransportHandlers): TransportConnection {
  let socket: WebSocket | undefined;
  let established = false;
  let closed = false;
  const finish = (disconnect: Disconnect | undefined, reason: string) => {
    if (closed) return;
    closed = true;
    clearTimeout(openTimer);
    handlers.onClose({ disconnect, reason, established });
  };
  const openTimer = setTimeout(() => {
    socket?.close();
    finish(undefined, 'websocket did not open in time');
  }, params.openTimeoutMs);

  void (async () => {
    const response = await params.fetch(new URL('/api/tickets', params.baseUrl), {
      method: 'POST',
      headers: { authorization: `Bearer ${params.token}` },
    });
    if (!response.ok) return finish(disconnectForStatus(response.status), `ticket refused: ${response.status}`);
    const { ticket } = (await response.json()) as { ticket: string };
    if (closed) return;
    const url = streamUrl(params.baseUrl, '/ws', { ticket, rooms: params.rooms?.join(','), cursor: params.cursor });
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    socket = new params.WebSocket(url.toString());
    socket.onmessage = (message) => {
      const frame = JSON.parse(String(message.data)) as ServerFrame;
      if (frame.type === 'ready' && !established) {
        established = true;
        clearTimeout(openTimer);
        handlers.onOpen();
      }
      handlers.onFrame(frame);
    };
    socket.onclose = (event) => finish(disconnectForCloseCode(event.code), event.reason || 'websocket closed');
    socket.onerror = () => undefined; // onclose follows with the code
  })().catch((error: unknown) => finish(undefined, `websocket failed: ${(error as Error).message}`));

  return {
    kind: 'websocket',
    sendFrame(frame) {
      if (!socket || socket.readyState !== 1) return false;
      socket.send(JSON.stringify(frame));
      return true;
    },
    close() {
      socket?.close(1000);
      finish(undefined, 'closed by client');
    },
  };
}
