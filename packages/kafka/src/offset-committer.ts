import type { Consumer } from 'kafkajs';

type CommitOffsets = Pick<Consumer, 'commitOffsets'>;

/**
 * Commits consumed offsets on a timer, off the delivery path. kafkajs' autoCommit
 * sends an OffsetCommit after every eachBatch call and waits for it before it
 * fetches again, whatever autoCommitInterval says: one broker round trip added to
 * every message's latency. Run consumers with `autoCommit: false` and report each
 * batch once it is done (for messaging: after Postgres and the publish); a crash
 * replays at most one interval, which the consumers already handle (unique keys,
 * seq checks).
 */
export class OffsetCommitter {
  private readonly done = new Map<string, { topic: string; partition: number; offset: string }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly consumer: CommitOffsets,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Every record of the partition up to `lastOffset` is processed: the next commit says `lastOffset + 1`. */
  processed(topic: string, partition: number, lastOffset: string): void {
    this.done.set(`${topic}:${partition}`, { topic, partition, offset: (BigInt(lastOffset) + 1n).toString() });
  }

  start(): void {
    this.timer ??= setInterval(() => {
      this.commit().catch((error: unknown) => this.onError(error));
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Commits what is done so far; a failed commit (e.g. during a rebalance) is retried at the next tick unless overtaken. */
  async commit(): Promise<void> {
    if (this.done.size === 0) return;
    const offsets = [...this.done.values()];
    this.done.clear();
    try {
      await this.consumer.commitOffsets(offsets);
    } catch (error) {
      for (const offset of offsets) {
        const key = `${offset.topic}:${offset.partition}`;
        if (!this.done.has(key)) this.done.set(key, offset);
      }
      this.onError(error);
    }
  }

  /** Stops the timer after a last commit; call it before the consumer leaves its group. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.commit();
  }
}
