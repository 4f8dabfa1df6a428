import type { Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import { decodePresence, ManagedConsumer, type PresenceRecord } from '@chat/kafka';
import type { UserRef } from '@chat/protocol';
import type { Logger } from '@chat/runtime';

/**
 * This gateway's copy of everyone's status, read whole from the compacted
 * presence topic; `onChange` (the feed router) fans changes out to local streams.
 */
export class PresenceView {
  private readonly online = new Map<string, UserRef>();
  private readonly consumer: ManagedConsumer;

  constructor(
    kafka: Kafka,
    topic: string,
    instanceId: string,
    private readonly onChange: (record: PresenceRecord) => void,
    private readonly logger: Logger,
    metrics: Registry,
    /** A crash kafkajs will not restart (ManagedConsumer); the process exits at once without it. */
    onFatal?: (error: Error) => void,
  ) {
    this.consumer = new ManagedConsumer({
      kafka,
      config: { groupId: `gateway-presence-${instanceId}`, maxWaitTimeInMs: 100, sessionTimeout: 10_000 },
      topic,
      fromBeginning: true,
      logger,
      metrics,
      onFatal,
    });
  }

  get isReady(): boolean {
    return this.consumer.isReady;
  }

  get hasJoined(): boolean {
    return this.consumer.hasJoined;
  }

  isOnline(userId: string): boolean {
    return this.online.has(userId);
  }

  /** The user, when online. */
  onlineUser(userId: string): UserRef | undefined {
    return this.online.get(userId);
  }

  start(): Promise<void> {
    return this.consumer.start({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) this.apply(decodePresence(message.value));
      },
    });
  }

  private apply(record: PresenceRecord | null): void {
    if (!record) return;
    const wasOnline = this.online.has(record.user.id);
    if (record.status === 'online') this.online.set(record.user.id, record.user);
    else this.online.delete(record.user.id);
    if (wasOnline !== (record.status === 'online')) {
      try {
        this.onChange(record);
      } catch (error) {
        this.logger.warn({ err: error }, 'presence fan-out failed');
      }
    }
  }

  stop(): Promise<void> {
    return this.consumer.stop();
  }
}
