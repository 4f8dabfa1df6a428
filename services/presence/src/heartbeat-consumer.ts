import { randomUUID } from 'node:crypto';
import type { EachBatchPayload, Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import { BatchingProducer, decodeHeartbeat, encodePresence, ManagedConsumer, type PresenceRecord, type TopicNames } from '@chat/kafka';
import type { Logger } from '@chat/runtime';
import { PresenceTracker } from './presence-tracker';
import { readPublishedStatuses } from './status-log';

export interface HeartbeatConsumerOptions {
  kafka: Kafka;
  topics: TopicNames;
  groupId: string;
  /** Offline this long after a gateway's last report. */
  ttlMs: number;
  logger: Logger;
  metrics: Registry;
}

/**
 * Owns online/offline for the users of the heartbeat partitions this replica is assigned, and publishes each change
 * to the compacted presence topic: on heartbeats, and when a gateway's last report runs out (the sweep). The presence
 * topic has the same partitions and key, so on every (re)assignment the state of exactly these users is first read
 * back from what was published for them: nobody flaps across a restart or a rebalance.
 */
export class HeartbeatConsumer {
  private readonly consumer: ManagedConsumer;
  private readonly producer: BatchingProducer;
  private tracker = new PresenceTracker();
  /** Set on every (re)assignment: the state of the newly owned users is rebuilt before heartbeats apply. */
  private rebuilding: Promise<void> | undefined;
  private owned: number[] = [];
  private sweep: NodeJS.Timeout | undefined;

  constructor(private readonly options: HeartbeatConsumerOptions) {
    this.consumer = new ManagedConsumer({
      kafka: options.kafka,
      config: { groupId: options.groupId, sessionTimeout: 10_000, heartbeatInterval: 2_000, maxWaitTimeInMs: 100 },
      topic: options.topics.heartbeats,
      fromBeginning: false,
      logger: options.logger,
      metrics: options.metrics,
    });
    this.producer = new BatchingProducer(options.kafka, { metrics: options.metrics });
    const { kafkajs } = this.consumer;
    kafkajs.on(kafkajs.events.GROUP_JOIN, (event) => {
      this.owned = (event.payload.memberAssignment[options.topics.heartbeats] ?? []) as number[];
      this.rebuilding = this.rebuild(this.owned);
    });
  }

  get isReady(): boolean {
    return this.consumer.isReady;
  }

  /** Users online among those this replica owns. */
  get onlineCount(): number {
    return this.tracker.onlineCount;
  }

  async start(): Promise<void> {
    await this.producer.connect();
    this.sweep = setInterval(
      () => {
        const changes = this.tracker.expire();
        if (changes.length > 0) this.publish(changes).catch((error: unknown) => this.options.logger.error({ err: error }, 'could not publish presence'));
      },
      Math.max(100, Math.min(1_000, this.options.ttlMs / 4)),
    );
    await this.consumer.start({ eachBatch: (payload) => this.processBatch(payload) });
  }

  private async processBatch({ batch }: EachBatchPayload): Promise<void> {
    try {
      await this.rebuilding;
    } catch (error) {
      // kafkajs retries the batch with backoff; by then the new rebuild may be done.
      this.rebuilding = this.rebuild(this.owned);
      throw error;
    }
    const changes: PresenceRecord[] = [];
    for (const message of batch.messages) {
      const heartbeat = decodeHeartbeat(message.value);
      const change = heartbeat && this.tracker.apply(heartbeat);
      if (change) changes.push(change);
    }
    await this.publish(changes);
  }

  /** Reads the statuses this replica published for its partitions back into a fresh tracker; replaces the tracker once done. */
  private rebuild(partitions: number[]): Promise<void> {
    const { kafka, topics, groupId, ttlMs, logger } = this.options;
    const done = (async () => {
      const next = new PresenceTracker();
      const statuses = await readPublishedStatuses(kafka, topics.presence, partitions, `${groupId}-restore-${randomUUID()}`);
      for (const status of statuses) next.restore(status, ttlMs);
      this.tracker = next;
      logger.info({ partitions, restored: statuses.length }, 'owning users of these partitions');
    })();
    // Handled here (logged), and seen again by the batch that awaits it, which starts the rebuild anew.
    done.catch((error: unknown) => logger.error({ err: error, partitions }, 'rebuilding presence state failed; the next batch tries again'));
    return done;
  }

  private publish(changes: PresenceRecord[]): Promise<unknown> {
    return Promise.all(changes.map((change) => this.producer.send(this.options.topics.presence, { key: change.user.id, value: encodePresence(change) })));
  }

  async stop(): Promise<void> {
    clearInterval(this.sweep);
    await this.consumer.stop();
    await this.producer.disconnect();
  }
}
