import type { Consumer, Kafka } from 'kafkajs';
import { decodePresence, type PresenceRecord } from '@chat/kafka';
import type { UserRef } from '@chat/protocol';
import type { Logger } from '@chat/runtime';

/**
 * This gateway's copy of everyone's status, read whole from the compacted
 * presence topic; `onChange` fans changes out to local streams.
 */
export class PresenceView {
  private readonly online = new Map<string, UserRef>();
  private readonly consumer: Consumer;

  constructor(
    kafka: Kafka,
    private readonly topic: string,
    instanceId: string,
    private readonly onChange: (record: PresenceRecord) => void,
    private readonly logger: Logger,
  ) {
    this.consumer = kafka.consumer({ groupId: `gateway-presence-${instanceId}`, maxWaitTimeInMs: 100, sessionTimeout: 10_000 });
  }

  isOnline(userId: string): boolean {
    return this.online.has(userId);
  }

  /** The user, when online. */
  onlineUser(userId: string): UserRef | undefined {
    return this.online.get(userId);
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        const record = decodePresence(message.value);
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
      },
    });
  }

  stop(): Promise<void> {
    return this.consumer.disconnect();
  }
}
