import type { TransportName } from '@chat/client';

const NAMES: Record<string, TransportName> = {
  ws: 'websocket',
  websocket: 'websocket',
  sse: 'sse',
  poll: 'poll',
  'long-poll': 'poll',
  longpoll: 'poll',
};

/** `?transport=ws|sse|poll` forces one transport; otherwise the SDK's fallback order applies. */
export function transportsFromQuery(search: string): TransportName[] | undefined {
  const forced = NAMES[new URLSearchParams(search).get('transport')?.toLowerCase() ?? ''];
  return forced ? [forced] : undefined;
}

export const TRANSPORT_LABELS: Record<TransportName, string> = {
  websocket: 'WebSocket',
  sse: 'SSE',
  poll: 'Long polling',
};
