import type { Consumer, Kafka } from 'kafkajs';
import { decodeFeedRecord, OffsetCommitter, type FeedRecord } from '@chat/kafka';
import type { Logger } from '@chat/runtime';

/**
 * Reads every partition of chat.events from "now" and hands each record to
 * `deliver`. Each gateway is its own consumer group, so every replica sees
 * every event. A gateway that starts late loses nothing: sessions serve any gap
 * from Postgres.
 */
export class EventFeed {
  private readonly consumer: Consumer;
  private readonly committer: OffsetCommitter;
  private joined = false;

  constructor(
    kafka: Kafka,
    private readonly topic: string,
    instanceId: string,
    private readonly deliver: (record: FeedRecord) => void,
    private readonly logger: Logger,
  ) {
    this.consumer = kafka.consumer({
      groupId: `gateway-${instanceId}`,
      sessionTimeout: 10_000,
      heartbeatInterval: 2_000,
      maxWaitTimeInMs: 250,
      allowAutoTopicCreation: false,
    });
    this.committer = new OffsetCommitter(this.consumer, 1_000, (error) => logger.warn({ err: error }, 'event feed offset commit failed'));
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
      this.joined = true;
    });
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      this.joined = false;
      logger.error({ err: event.payload.error }, 'event feed crashed');
    });
  }

  get isJoined(): boolean {
    return this.joined;
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: false });
    await this.consumer.run({
      // Committed (each second, off the delivery path) so that a consumer restarting after a crash
      // goes on where it was instead of skipping to the end.
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          const record = decodeFeedRecord(message.value);
          if (record) this.deliver(record);
          else this.logger.warn({ offset: message.offset, partition: batch.partition }, 'skipping an unreadable room event');
        }
        this.committer.processed(batch.topic, batch.partition, batch.lastOffset());
      },
    });
    this.committer.start();
  }

  async stop(): Promise<void> {
    await this.committer.stop();
    await this.consumer.disconnect();
  }
}
