/**
 * The browser's online/offline signal. Browsers keep a WebSocket (and a fetch
 * stream) looking open for a long time after the network went away, and the
 * backoff may wait up to 30 s after it came back; these events cut both short.
 * Outside a browser (Node) there is nothing to watch.
 */
export function watchNetwork(onOffline: () => void, onOnline: () => void): () => void {
  const target = globalThis as { addEventListener?: typeof addEventListener; removeEventListener?: typeof removeEventListener };
  if (typeof target.addEventListener !== 'function' || typeof target.removeEventListener !== 'function') return () => undefined;
  target.addEventListener('offline', onOffline);
  target.addEventListener('online', onOnline);
  return () => {
    target.removeEventListener!('offline', onOffline);
    target.removeEventListener!('online', onOnline);
  };
}

export function isOffline(): boolean {
  return (globalThis as { navigator?: { onLine?: boolean } }).navigator?.onLine === false;
}
