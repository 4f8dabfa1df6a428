/** A stream that can hold writes back and let them go together (net.Socket, http.ServerResponse). */
interface Corkable {
  cork(): void;
  uncork(): void;
  write(chunk: Buffer): boolean;
  readonly writableLength: number;
}

/** Past this much, a burst is let go at once, so it never looks like a slow client's backlog. */
const FLUSH_BYTES = 16 * 1024;

/**
 * Frames written in one go (a feed batch, a catch-up page) leave in one write
 * system call instead of one each: a write per frame was half of the
 * gateway's CPU in the fan-out benchmark. The burst ends when the current
 * task's synchronous work does (a microtask), or every FLUSH_BYTES.
 */
export class WriteBurst {
  private open = false;
  /** Bytes written in this burst and not yet let go. */
  private pendingBytes = 0;

  constructor(private readonly stream: Corkable) {}

  /** What the client has not read yet: this burst's own writes are on their way, not a backlog. */
  get backlog(): number {
    return this.stream.writableLength - this.pendingBytes;
  }

  write(chunk: Buffer): void {
    if (!this.open) {
      this.open = true;
      this.stream.cork();
      queueMicrotask(() => {
        this.open = false;
        this.pendingBytes = 0;
        this.stream.uncork();
      });
    }
    this.stream.write(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < FLUSH_BYTES) return;
    this.pendingBytes = 0;
    this.stream.uncork();
    this.stream.cork();
  }
}
