/** A logical message's end: acked, refused for good, still unknown after every attempt, or never sent at all. */
export type SendResult = 'ack' | 'refused' | 'indeterminate' | 'unsent';

/**
 * At most `size` sends in flight; the rest wait their turn in order. A window of 1 is a sequential sender: each send
 * waits for the one before to end, retries included.
 */
export class SendWindow {
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`a send window holds at least one send, not ${size}`);
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.inFlight >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.inFlight++;
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.inFlight--;
    }
  }
}
