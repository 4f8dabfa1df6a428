import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { context, trace } from '@opentelemetry/api';
import type { Registry } from 'prom-client';
import { ConsumerLag, decodeFeedRecord, isTraced, OffsetCommitter, startProcessSpan, type FeedRecord } from '@chat/kafka';
import type { Logger } from '@chat/runtime';

/**
 * Reads every partition of chat.events from "now" and hands each record to
 * `deliver`. Each gateway is its own consumer group, so every replica sees
 * every event. A gateway that starts late loses nothing: sessions serve any gap
 * from Postgres.
 *
 * A record sent inside a trace is delivered inside one `process` span, a child
 * of the span that sent it, with the number of local streams it reached: one
 * span per event per gateway, however many members the room has here.
 */
export class EventFeed {
  private readonly consumer: Consumer;
  private readonly committer: OffsetCommitter;
  private joined = false;
  private readonly lag: ConsumerLag;

  constructor(
    kafka: Kafka,
    private readonly topic: string,
    instanceId: string,
    /** Returns how many local streams the record reached. */
    private readonly deliver: (record: FeedRecord) => number,
    private readonly logger: Logger,
    metrics: Registry,
  ) {
    const groupId = `gateway-${instanceId}`;
    this.lag = new ConsumerLag(metrics, groupId);
    this.consumer = kafka.consumer({
      groupId,
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
    this.lag.watch(this.consumer);
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
        this.lag.observe(batch);
        for (const message of batch.messages) {
          const record = decodeFeedRecord(message.value);
          if (!record) this.logger.warn({ offset: message.offset, partition: batch.partition }, 'skipping an unreadable room event');
          else if (isTraced(message)) this.deliverTraced(batch.topic, batch.partition, message, record);
          else this.deliver(record);
        }
        this.committer.processed(batch.topic, batch.partition, batch.lastOffset());
      },
    });
    this.committer.start();
  }

  private deliverTraced(topic: string, partition: number, message: KafkaMessage, record: FeedRecord): void {
    const span = startProcessSpan(topic, partition, message);
    try {
      const streams = context.with(trace.setSpan(context.active(), span), () => this.deliver(record));
      span.setAttributes({ 'chat.record.kind': record.kind, 'chat.delivery.streams': streams });
    } finally {
      span.end();
    }
  }

  async stop(): Promise<void> {
    await this.committer.stop();
    await this.consumer.disconnect();
  }
}
