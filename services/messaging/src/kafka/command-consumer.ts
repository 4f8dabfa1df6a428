import type { EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { Registry } from 'prom-client';
import { BatchingProducer, decodeSendCommand, encodeLogEntry, ManagedConsumer, OffsetCommitter, type SendCommand, type TopicNames } from '@chat/kafka';
import { failpoint, type Logger } from '@chat/runtime';
import type { MessageWriter, RejectedCommand } from '../db/message-writer';
import { BatchTrace } from './batch-trace';

/** How often processed offsets are committed; a crash replays at most about this much. */
const COMMIT_INTERVAL_MS = 500;
/** How long a failed publish that no later batch has found waits before its partition is replayed from it. */
const REPLAY_AFTER_MS = 1_000;

/** What the consumer publishes room events with: a BatchingProducer, or a stand-in in tests. */
export type EventProducer = Pick<BatchingProducer, 'connect' | 'send' | 'disconnect'>;

/** A batch's publish, which may still be in flight, and where its batch starts. */
interface Publish {
  done: Promise<void>;
  firstOffset: string;
  /** A seek back to this batch that kafkajs refused (it was restarting the consumer), to be tried again. */
  retryingSeek?: NodeJS.Timeout;
}

/** A record of chat.messages that cannot be stored, and why: it goes to chat.messages.dlq as it was. */
interface DeadLetter {
  message: KafkaMessage;
  reason: RejectedCommand['reason'] | 'undecodable';
  detail: string;
}

export interface CommandConsumerOptions {
  kafka: Kafka;
  topics: TopicNames;
  groupId: string;
  writer: MessageWriter;
  logger: Logger;
  partitionsConcurrently: number;
  /** Told of every persisted batch: its size and how long the Postgres transaction took. */
  onBatchPersisted?: (size: number, seconds: number) => void;
  /** Where the consumer's lag, readiness and crashes are counted; a registry of its own by default (tests). */
  metrics?: Registry;
  /** What it publishes with; a BatchingProducer without metrics by default (tests inject failures with their own). */
  producer?: EventProducer;
  /** Told of every record sent to the dead-letter topic. */
  onDeadLetter?: (reason: DeadLetter['reason']) => void;
}

/**
 * The one writer per partition: for each fetched batch it persists every
 * command in one transaction, publishes the room events, and only then lets the
 * offset be committed. A crash anywhere before the commit replays the batch; the
 * unique keys in Postgres turn the replay into re-publishing the same events.
 *
 * A batch's publish overlaps the partition's next fetch and transaction: kafkajs
 * fetches again only once eachBatch returns, and waiting for the publish there
 * would add it to every round. The next batch hands its events to the producer
 * only once this publish has succeeded, so chat.events keeps each room's order
 * even when one fails: the partition then goes back to the failed batch (a seek;
 * kafkajs' own retry of a failed eachBatch would fetch from after it), and the
 * replay publishes it and what follows.
 */
export class CommandConsumer {
  private readonly consumer: ManagedConsumer;
  private readonly producer: EventProducer;
  private readonly committer: OffsetCommitter;
  /** Per partition, the publish of its last batch, which may still be in flight. */
  private readonly publishing = new Map<number, Publish>();
  private stopping = false;

  constructor(private readonly options: CommandConsumerOptions) {
    this.consumer = new ManagedConsumer({
      kafka: options.kafka,
      config: {
        groupId: options.groupId,
        // DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS stays below it: a frozen member's row locks are gone before its partitions move.
        sessionTimeout: 10_000,
        heartbeatInterval: 2_000,
        rebalanceTimeout: 20_000,
        maxWaitTimeInMs: 100,
        allowAutoTopicCreation: false,
      },
      topic: options.topics.messages,
      fromBeginning: true,
      logger: options.logger,
      metrics: options.metrics ?? new Registry(),
    });
    this.producer = options.producer ?? new BatchingProducer(options.kafka);
    this.committer = new OffsetCommitter(this.consumer.kafkajs, COMMIT_INTERVAL_MS, (error) =>
      options.logger.warn({ err: error }, 'offset commit failed; the next one carries it'),
    );
  }

  get isReady(): boolean {
    return this.consumer.isReady;
  }

  async start(): Promise<void> {
    await this.producer.connect();
    await this.consumer.start({
      // A batch's offsets are resolved once it is stored, which only moves the fetch on; they are committed
      // once its events are published, every COMMIT_INTERVAL_MS off the fetch loop: a crash replays a little
      // more, which the unique keys make harmless, and no batch waits for a commit round trip (see OffsetCommitter).
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConcurrently,
      eachBatch: (payload) => this.processBatch(payload),
    });
    this.committer.start();
  }

  private async processBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (batch.messages.length === 0 || !isRunning() || isStale()) return;
    const commands: SendCommand[] = [];
    const origins = new Map<SendCommand, KafkaMessage>();
    const deadLetters: DeadLetter[] = [];
    const spans = new BatchTrace(batch.topic, batch.partition);
    for (const message of batch.messages) {
      const command = decodeSendCommand(message.value);
      spans.record(message, command);
      if (command) {
        commands.push(command);
        origins.set(command, message);
      } else deadLetters.push({ message, reason: 'undecodable', detail: 'not a send command' });
    }
    const { topic, partition } = batch;
    const [firstOffset, lastOffset] = [batch.messages[0]!.offset, batch.lastOffset()];
    // Taken now: a replay that forgets it while this batch is stored must not let this batch publish first.
    const previous = this.publishing.get(partition);
    let published: Promise<unknown>;
    try {
      const started = performance.now();
      const result = await spans.persist(commands.length, async () => {
        const persisted = await this.options.writer.persistBatch(commands);
        this.options.logger.debug({ commands: commands.length, inserted: persisted.inserted, dropped: persisted.dropped }, 'persisted a batch');
        return persisted;
      });
      this.options.onBatchPersisted?.(commands.length, (performance.now() - started) / 1000);
      if (result.dropped > 0) this.options.logger.warn({ dropped: result.dropped }, 'dropped sends to unknown rooms, or edits and deletes that do not apply');
      for (const { command, reason, detail } of result.rejected) deadLetters.push({ message: origins.get(command)!, reason, detail });
      failpoint('messaging.after-store');
      if (!(await this.previousSucceeded(topic, partition, previous)) || isStale()) {
        // Fetched again after the failed batch; what it stored is found stored then.
        spans.end();
        return;
      }
      // Dead letters are part of the batch's publish: its offset is committed only once they are durable too.
      published = Promise.all([
        ...result.events.map((event) =>
          spans.publishIn(event, () => this.producer.send(this.options.topics.events, { key: event.room, value: encodeLogEntry(event) })),
        ),
        ...deadLetters.map((letter) => this.sendToDeadLetters(topic, partition, letter)),
      ]);
    } catch (error) {
      spans.end();
      throw error;
    }
    const failed = (error: unknown): never => {
      this.options.logger.error({ err: error, partition, firstOffset, lastOffset }, 'publishing a batch failed; the partition replays it');
      // Found by the partition's next batch; kafkajs calls eachBatch only for batches with records, so if none
      // comes, replay anyway after a while.
      setTimeout(() => this.replay(topic, partition, publish), REPLAY_AFTER_MS).unref();
      throw error;
    };
    const publish: Publish = {
      firstOffset,
      done: published.then(() => {
        try {
          failpoint('messaging.after-publish');
        } catch (error) {
          // Taken for a publish that failed though the broker has its records, as a lost produce response is.
          failed(error);
        }
        this.committer.processed(topic, partition, lastOffset);
      }, failed),
    };
    publish.done.catch(() => undefined).finally(() => spans.end());
    this.publishing.set(partition, publish);
    resolveOffset(lastOffset);
    await heartbeat();
  }

  /**
   * The record as it was (key, value, headers with its trace context), with headers that say why and where from: an
   * operator can read it, fix what is wrong, and produce it to chat.messages again (docs/kafka.md).
   */
  private sendToDeadLetters(topic: string, partition: number, { message, reason, detail }: DeadLetter): Promise<void> {
    this.options.logger.warn({ partition, offset: message.offset, reason, detail }, 'a record of chat.messages cannot be stored: sent to the dead-letter topic');
    this.options.onDeadLetter?.(reason);
    return this.producer.send(this.options.topics.deadLetters, {
      key: message.key,
      value: message.value,
      headers: {
        ...message.headers,
        'chat-dlq-reason': reason,
        'chat-dlq-detail': detail.slice(0, 1_000),
        'chat-dlq-source': `${topic}/${partition}/${message.offset}`,
      },
    });
  }

  /** Waits for the partition's previous publish: false if it failed, and the partition is on its way back to it. */
  private async previousSucceeded(topic: string, partition: number, previous: Publish | undefined): Promise<boolean> {
    if (!previous) return true;
    try {
      await previous.done;
      return true;
    } catch {
      this.replay(topic, partition, previous);
      return false;
    }
  }

  /**
   * Sends the partition back to a batch whose publish failed: its next fetch starts there, so that batch is stored
   * (found stored) and published again, then what follows. Everything before it was published: a batch publishes only
   * after the previous one did. Once per failure, whichever of the next batch and the timer comes first.
   */
  private replay(topic: string, partition: number, failed: Publish): void {
    if (this.stopping || this.publishing.get(partition) !== failed) return;
    try {
      this.consumer.kafkajs.seek({ topic, partition, offset: failed.firstOffset });
    } catch (error) {
      // kafkajs refuses a seek (synchronously) while it restarts the consumer. The failed publish stays the
      // partition's last, so no later batch publishes before it (each finds it failed and returns), and the seek
      // is tried again until it is taken.
      if (failed.retryingSeek === undefined) {
        this.options.logger.warn({ err: error, partition }, 'could not seek back to a batch whose publish failed; trying again');
        failed.retryingSeek = setTimeout(() => {
          failed.retryingSeek = undefined;
          this.replay(topic, partition, failed);
        }, REPLAY_AFTER_MS);
        failed.retryingSeek.unref();
      }
      return;
    }
    clearTimeout(failed.retryingSeek);
    this.publishing.delete(partition);
  }

  async stop(): Promise<void> {
    // Commits what is done, waits for the batch in progress (replayed by the next owner, harmlessly),
    // then leaves the group so a peer takes over at once; publishes still in flight finish before the producer closes.
    this.stopping = true;
    await this.committer.stop();
    await this.consumer.stop();
    await this.producer.disconnect();
  }
}
