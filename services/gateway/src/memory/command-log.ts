import type { SendCommand } from '@chat/kafka';
import type { CommandLog } from '../ports/command-log';

/**
 * The command log in memory, for tests of the send path without Kafka: appends are durable when the test says so
 * (`settle`), in the order they were made, or fail.
 */
export class MemoryCommandLog implements CommandLog {
  /** Every command appended, durable or not yet, in order. */
  readonly commands: SendCommand[] = [];
  private readonly pending: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  /** When true, appends stay pending until `settle`. */
  holding = false;

  append(command: SendCommand): Promise<void> {
    this.commands.push(command);
    if (!this.holding) return Promise.resolve();
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }

  /** Makes the pending appends durable, or fails them all with `error` (the broker went away). */
  settle(error?: Error): void {
    for (const append of this.pending.splice(0)) {
      if (error) append.reject(error);
      else append.resolve();
    }
  }
}
