import type { Kafka, KafkaMessage } from 'kafkajs';
import { context, trace } from '@opentelemetry/api';
import type { Registry } from 'prom-client';
import { decodeFeedRecord, isTraced, ManagedConsumer, OffsetCommitter, startProcessSpan, type FeedRecord } from '@chat/kafka';
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
  private readonly consumer: ManagedConsumer;
  private readonly committer: OffsetCommitter;

  constructor(
    kafka: Kafka,
    topic: string,
    instanceId: string,
    /** Returns how many local streams the record reached. */
    private readonly deliver: (record: FeedRecord) => number,
    private readonly logger: Logger,
    metrics: Registry,
    /** A crash kafkajs will not restart (ManagedConsumer); the process exits at once without it. */
    onFatal?: (error: Error) => void,
  ) {
    this.consumer = new ManagedConsumer({
      kafka,
      config: {
        groupId: `gateway-${instanceId}`,
        sessionTimeout: 10_000,
        heartbeatInterval: 2_000,
        maxWaitTimeInMs: 250,
        allowAutoTopicCreation: false,
      },
      topic,
      fromBeginning: false,
      logger,
      metrics,
      onFatal,
    });
    this.committer = new OffsetCommitter(this.consumer.kafkajs, 1_000, (error) => logger.warn({ err: error }, 'event feed offset commit failed'));
  }

  get isReady(): boolean {
    return this.consumer.isReady;
  }

  get hasJoined(): boolean {
    return this.consumer.hasJoined;
  }

  async start(): Promise<void> {
    await this.consumer.start({
      // Committed (each second, off the delivery path) so that a consumer restarting after a crash
      // goes on where it was instead of skipping to the end.
      autoCommit: false,
      eachBatch: async ({ batch }) => {
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
    await this.consumer.stop();
  }
}
