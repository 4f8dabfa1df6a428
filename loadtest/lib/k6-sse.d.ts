/** The SSE module built into our k6 (loadtest/k6/sse/sse.go). */
declare module 'k6/x/sse' {
  export interface SseEvent {
    /** The `id:` line: a cursor on this server. */
    id: string;
    event: string;
    data: string;
  }
  export interface SseStream {
    /** The next event, or null when none arrived within timeoutMs; throws once the stream ended. */
    next(timeoutMs: number): SseEvent | null;
    close(): void;
  }
  /** Opens GET `url` and returns once the server answered 200; throws otherwise. */
  export function open(url: string, headers: Record<string, string>): SseStream;
}
