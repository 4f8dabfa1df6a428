import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { context, ROOT_CONTEXT, trace, type Span } from '@opentelemetry/api';
import {
  BatchingProducer,
  decodeSendCommand,
  encodeLogEntry,
  startProcessSpan,
  type ConsumerLag,
  type SendCommand,
  type TopicNames,
} from '@chat/kafka';
import type { Logger } from '@chat/runtime';
import { tracer } from '@chat/telemetry';
import { sendKey } from '../db/dedupe';
import type { MessageWriter } from '../db/message-writer';

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
    this.producer = new BatchingProducer(options.kafka);
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
      // Offsets are resolved only after the batch's events are published, and committed at
      // most every 500 ms: a crash replays a little more, which the unique keys make harmless,
      // and no batch waits for a commit round trip.
      autoCommit: true,
      autoCommitInterval: 500,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConcurrently,
      eachBatch: (payload) => this.processBatch(payload),
    });
  }

  /**
   * Tracing: every record gets a `process` span in the trace it was sent in; the
   * Postgres transaction is one `persist` span for the whole batch, a child of the
   * first record's span with links to every record's, so a batch of one is one
   * unbroken trace and a larger one is still reachable from each message; each
   * room event is published inside the span of the command it came from.
   */
  private async processBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    this.options.lag?.observe(batch);
    if (batch.messages.length === 0 || !isRunning() || isStale()) return;
    const commands: SendCommand[] = [];
    const spanOfCommand = new Map<string, Span>();
    const spans = batch.messages.map((message) => {
      const span = startProcessSpan(batch.topic, batch.partition, message);
      const command = decodeSendCommand(message.value);
      if (command) {
        commands.push(command);
        const key = sendKey(command.room, command.sender.id, command.clientMsgId);
        if (!spanOfCommand.has(key)) spanOfCommand.set(key, span);
      } else {
        this.options.logger.warn({ partition: batch.partition, offset: message.offset }, 'skipping a record that is not a send command');
      }
      return span;
    });
    try {
      const persistSpan = tracer.startSpan(
        'persist batch',
        {
          attributes: { 'messaging.batch.message_count': commands.length, 'messaging.destination.partition.id': String(batch.partition) },
          links: spans.map((span) => ({ context: span.spanContext() })),
        },
        trace.setSpan(ROOT_CONTEXT, spans[0]!),
      );
      const started = performance.now();
      const result = await context.with(trace.setSpan(ROOT_CONTEXT, persistSpan), async () => {
        try {
          const persisted = await this.options.writer.persistBatch(commands);
          this.options.logger.debug({ commands: commands.length, inserted: persisted.inserted, dropped: persisted.dropped }, 'persisted a batch');
          return persisted;
        } finally {
          persistSpan.end();
        }
      });
      this.options.onBatchPersisted?.(commands.length, (performance.now() - started) / 1000);
      if (result.dropped > 0) this.options.logger.warn({ dropped: result.dropped }, 'dropped sends to unknown rooms or with invalid fields');
      await Promise.all(
        result.events.map((event) => {
          const span = spanOfCommand.get(sendKey(event.room, event.sender.id, event.clientMsgId));
          return context.with(trace.setSpan(ROOT_CONTEXT, span ?? spans[0]!), () =>
            this.producer.send(this.options.topics.events, { key: event.room, value: encodeLogEntry(event) }),
          );
        }),
      );
    } finally {
      for (const span of spans) span.end();
    }
    resolveOffset(batch.lastOffset());
    await heartbeat();
  }

  async stop(): Promise<void> {
    // Waits for the batch in progress, then leaves the group so a peer takes over at once.
    await this.consumer.disconnect();
    await this.producer.disconnect();
  }
}
