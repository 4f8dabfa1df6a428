import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { BatchingProducer, decodeSendCommand, encodeLogEntry, OffsetCommitter, type ConsumerLag, type SendCommand, type TopicNames } from '@chat/kafka';
import type { Logger } from '@chat/runtime';
import type { Registry } from 'prom-client';
import type { MessageWriter } from '../db/message-writer';
import { BatchTrace } from './batch-trace';

/** How often processed offsets are committed; a crash replays at most about this much. */
const COMMIT_INTERVAL_MS = 500;

export interface CommandConsumerOptions {
  kafka: Kafka;
  topics: TopicNames;
  groupId: string;
  writer: MessageWriter;
  logger: Logger;
  partitionsConcurrently: number;
  /** Told of every persisted batch: its size and how long the Postgres transaction took. */
  onBatchPersisted?: (size: number, seconds: number) => void;
  /** Told of every fetched batch, for the lag it leaves behind. */
  lag?: ConsumerLag;
  /** For the producer's `chat_kafka_produce_seconds`. */
  metrics?: Registry;
}

/**
 * The one writer per partition: for each fetched batch it persists every
 * command in one transaction, publishes the room events, and only then lets the
 * offset be committed. A crash anywhere before the commit replays the batch; the
 * unique keys in Postgres turn the replay into re-publishing the same events.
 */
export class CommandConsumer {
  private readonly consumer: Consumer;
  private readonly producer: BatchingProducer;
  private readonly committer: OffsetCommitter;
  private joined = false;

  constructor(private readonly options: CommandConsumerOptions) {
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: 10_000,
      heartbeatInterval: 2_000,
      rebalanceTimeout: 20_000,
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
    });
    this.producer = new BatchingProducer(options.kafka, { metrics: options.metrics });
    this.committer = new OffsetCommitter(this.consumer, COMMIT_INTERVAL_MS, (error) =>
      options.logger.warn({ err: error }, 'offset commit failed; the next one carries it'),
    );
    this.consumer.on(this.consumer.events.GROUP_JOIN, (event) => {
      this.joined = true;
      options.logger.info({ assignment: event.payload.memberAssignment }, 'joined consumer group');
    });
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      this.joined = false;
      options.logger.error({ err: event.payload.error, restart: event.payload.restart }, 'consumer crashed');
    });
    options.lag?.watch(this.consumer);
  }

  get isJoined(): boolean {
    return this.joined;
  }

  async start(): Promise<void> {
    await this.producer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.options.topics.messages, fromBeginning: true });
    await this.consumer.run({
      // Offsets are resolved only after the batch's events are published, and committed every
      // COMMIT_INTERVAL_MS off the fetch loop: a crash replays a little more, which the unique keys
      // make harmless, and no batch waits for a commit round trip (see OffsetCommitter).
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConcurrently,
      eachBatch: (payload) => this.processBatch(payload),
    });
    this.committer.start();
  }

  private async processBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    this.options.lag?.observe(batch);
    if (batch.messages.length === 0 || !isRunning() || isStale()) return;
    const commands: SendCommand[] = [];
    const spans = new BatchTrace(batch.topic, batch.partition);
    for (const message of batch.messages) {
      const command = decodeSendCommand(message.value);
      spans.record(message, command);
      if (command) commands.push(command);
      else this.options.logger.warn({ partition: batch.partition, offset: message.offset }, 'skipping a record that is not a send command');
    }
    try {
      const started = performance.now();
      const result = await spans.persist(commands.length, async () => {
        const persisted = await this.options.writer.persistBatch(commands);
        this.options.logger.debug({ commands: commands.length, inserted: persisted.inserted, dropped: persisted.dropped }, 'persisted a batch');
        return persisted;
      });
      this.options.onBatchPersisted?.(commands.length, (performance.now() - started) / 1000);
      if (result.dropped > 0) this.options.logger.warn({ dropped: result.dropped }, 'dropped sends to unknown rooms or with invalid fields');
      await Promise.all(
        result.events.map((event) =>
          spans.publishIn(event, () => this.producer.send(this.options.topics.events, { key: event.room, value: encodeLogEntry(event) })),
        ),
      );
    } finally {
      spans.end();
    }
    resolveOffset(batch.lastOffset());
    this.committer.processed(batch.topic, batch.partition, batch.lastOffset());
    await heartbeat();
  }

  async stop(): Promise<void> {
    // Commits what is done, waits for the batch in progress (replayed by the next owner, harmlessly),
    // then leaves the group so a peer takes over at once.
    await this.committer.stop();
    await this.consumer.disconnect();
    await this.producer.disconnect();
  }
}
