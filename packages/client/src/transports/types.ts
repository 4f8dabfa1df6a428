import type { ClientFrame } from '@chat/protocol';

export type TransportKind = 'websocket' | 'sse' | 'poll';

/** Any server frame or event, as parsed JSON. */
export interface IncomingFrame {
  type: string;
  cursor?: string;
  [key: string]: unknown;
}

export interface CloseInfo {
  /** WebSocket close code, or its equivalent for SSE and long poll (4001 token expired, 4003 forbidden). */
  code?: number;
  reason: string;
  /** Whether the stream was open (ready) before it closed: a transport that never opens is likely blocked. */
  established: boolean;
}

export interface TransportHandlers {
  onOpen(): void;
  onFrame(frame: IncomingFrame): void;
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
  fetch: typeof fetch;
  WebSocket: typeof WebSocket;
}

export interface TransportConnection {
  readonly kind: TransportKind;
  /** WebSocket only: false when the socket is not open. */
  sendFrame?(frame: ClientFrame): boolean;
  close(): void;
}

export function streamUrl(baseUrl: string, path: string, params: Record<string, string | undefined>): URL {
  const url = new URL(path, baseUrl);
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') url.searchParams.set(key, value);
  return url;
}

/** Maps an HTTP status of a stream endpoint to the WebSocket close code a client acts on. */
export function closeCodeForStatus(status: number): number | undefined {
  if (status === 401) return 4001;
  if (status === 403) return 4003;
  if (status === 429) return 4029;
  return undefined;
}
