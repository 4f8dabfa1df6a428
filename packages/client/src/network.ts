/**
 * The browser's online/offline signal. Browsers keep a WebSocket (and a fetch
 * stream) looking open for a long time after the network went away, and the
 * backoff may wait up to 30 s after it came back; these events cut both short.
 * Outside a browser (Node) there is nothing to watch.
 */
interface WindowEvents {
  addEventListener(type: 'online' | 'offline', listener: () => void): void;
  removeEventListener(type: 'online' | 'offline', listener: () => void): void;
}

export function watchNetwork(onOffline: () => void, onOnline: () => void): () => void {
  const target = globalThis as Partial<WindowEvents>;
  if (typeof target.addEventListener !== 'function' || typeof target.removeEventListener !== 'function') return () => undefined;
  const events = target as WindowEvents;
  events.addEventListener('offline', onOffline);
  events.addEventListener('online', onOnline);
  return () => {
    events.removeEventListener('offline', onOffline);
    events.removeEventListener('online', onOnline);
  };
}

export function isOffline(): boolean {
  return (globalThis as { navigator?: { onLine?: boolean } }).navigator?.onLine === false;
}
