import type { ClientFrame, Disconnect, ServerFrame, TransportName } from '@chat/protocol';
import type { LivenessOptions } from '../liveness';

export interface CloseInfo {
  /** What the server said, read from the catalog; none when the connection dropped or the client closed it. */
  disconnect?: Disconnect;
  reason: string;
  /** Whether the stream was open (ready) before it closed: a transport that never opens is likely blocked. */
  established: boolean;
}

export interface TransportHandlers {
  onOpen(): void;
  onFrame(frame: ServerFrame): void;
  /** A new stream position that came without an event (an empty long-poll answer). */
  onCursor(cursor: string): void;
  onClose(info: CloseInfo): void;
}

export interface ConnectParams {
  baseUrl: string;
  token: string;
  rooms?: string[];
  cursor?: string;
  /** A transport that has not opened by then counts as blocked. */
  openTimeoutMs: number;
  /** How long an open stream may stay silent. */
  liveness: LivenessOptions;
  fetch: typeof fetch;
  WebSocket: typeof WebSocket;
}

export interface TransportConnection {
  readonly kind: TransportName;
  /** WebSocket only: false when the socket is not open. */
  sendFrame?(frame: ClientFrame): boolean;
  /** Ends the connection at once (its onClose follows, with the reason): no wait for a server that may be gone. */
  close(reason?: string): void;
}

export function streamUrl(baseUrl: string, path: string, params: Record<string, string | undefined>): URL {
  const url = new URL(path, baseUrl);
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') url.searchParams.set(key, value);
  return url;
}
