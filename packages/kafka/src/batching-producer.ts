// First: kafkajs must load with its fixes in place (kafkajs-fixes.ts).
import { producersWithPartitionRetries } from './kafkajs-fixes';
import { SpanStatusCode } from '@opentelemetry/api';
import { CompressionTypes, Kafka, type Message, type Producer } from 'kafkajs';
import { Counter, Histogram, type Registry } from 'prom-client';
import { LATENCY_BUCKETS_SECONDS, sharedMetric } from './metrics';
import { KeyPartitioner } from './partitioner';
import { retryWhileStarting } from './startup';
import { startSendSpan } from './tracing';

interface Pending {
  topic: string;
  message: Message;
  /** performance.now() when it was sent, for chat_kafka_produce_seconds and the send deadline. */
  queuedAt: number;
  bytes: number;
  /** Answered already (acknowledged, failed, or past its deadline): what comes later changes nothing. */
  settled: boolean;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * A send refused without waiting (`queue_full`: the producer holds its bound of records or bytes already) or given up
 * at its deadline (`timeout`). A record given up while in a request may still reach the log: its sender retries with
 * the same id, which the consumers dedupe. One given up while queued never goes out.
 */
export class ProduceRejectedError extends Error {
  constructor(
    readonly reason: 'queue_full' | 'timeout',
    message: string,
  ) {
    super(message);
    this.name = 'ProduceRejectedError';
  }
}

export interface BatchingProducerOptions {
  /** Records per request at most. */
  maxBatch?: number;
  /**
   * Bytes of record values per request at most, which keeps every request, and so every partition's
   * record batch, under the broker's `message.max.bytes` (1 MiB by default): a larger one is refused outright.
   */
  maxBatchBytes?: number;
  /** Where `chat_kafka_produce_seconds{topic}` goes: from `send` to every in-sync replica having the record. */
  metrics?: Registry;
  /** How long connecting a replacement producer may take before the records waiting for it fail (see `flush`). */
  reconnectDeadlineMs?: number;
  /** Records waiting for Kafka (queued or in a request) at most: a send past it fails at once (`queue_full`). */
  maxQueuedRecords?: number;
  /** Bytes of their values at most, likewise. */
  maxQueuedBytes?: number;
  /**
   * A send not acknowledged this long after it was handed over fails (`timeout`), within a quarter of it (at most
   * 250 ms) after; none by default (messaging waits out an outage: its batch is retried whole).
   */
  sendTimeoutMs?: number;
}

/**
 * An idempotent, acks=all producer that batches concurrent sends: while one
 * request is in flight, new records queue and go out together in the next one.
 * Latency when idle is one round trip; under load, requests carry many records
 * instead of queuing one by one behind each other.
 */
export class BatchingProducer {
  private producer: Producer;
  /** Set by a failed send: the next request goes out on a new producer (a new producer id). */
  private replaceBeforeNextSend = false;
  private readonly reconnectDeadlineMs: number;
  private queue: Pending[] = [];
  /** The records of the request in flight. */
  private inFlight: Pending[] = [];
  /** Records and value bytes queued or in flight, and not past their deadline. */
  private waitingRecords = 0;
  private waitingBytes = 0;
  private flushing = false;
  private readonly maxBatch: number;
  private readonly maxBatchBytes: number;
  private readonly maxQueuedRecords: number;
  private readonly maxQueuedBytes: number;
  private readonly sendTimeoutMs: number | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private readonly produceSeconds?: Histogram<'topic'>;
  private readonly rejected?: Counter<'topic' | 'reason'>;

  constructor(
    private readonly kafka: Kafka,
    options: BatchingProducerOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 1_000;
    this.maxBatchBytes = options.maxBatchBytes ?? 512 * 1024;
    this.reconnectDeadlineMs = options.reconnectDeadlineMs ?? 30_000;
    this.maxQueuedRecords = options.maxQueuedRecords ?? Infinity;
    this.maxQueuedBytes = options.maxQueuedBytes ?? Infinity;
    this.sendTimeoutMs = options.sendTimeoutMs;
    if (options.metrics) {
      this.produceSeconds = produceHistogram(options.metrics);
      this.rejected = rejectedCounter(options.metrics);
    }
    this.producer = this.newProducer();
  }

  /**
   * Idempotence needs unlimited retries (kafkajs' default for it): within one send, retries neither duplicate nor
   * reorder a partition. They are not unlimited in fact (kafkajs gives up once reconnecting to an unreachable broker
   * fails its own retries, after about 16 s), and a send that failed leaves the producer unusable: see `flush`.
   */
  private newProducer(): Producer {
    const before = producersWithPartitionRetries;
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: KeyPartitioner,
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 5_000 },
    });
    if (this.kafka instanceof Kafka && producersWithPartitionRetries === before) {
      // Its retries could drop a partition's records and report them sent (kafkajs-fixes.ts): refuse to run so. (Unit
      // tests' stand-ins for kafkajs make no kafkajs producer.)
      throw new Error('kafkajs was loaded before @chat/kafka applied its fixes: import @chat/kafka before kafkajs');
    }
    return producer;
  }

  /** Connects, trying again through a broker that resets or refuses while the service starts (retryWhileStarting). */
  connect(): Promise<void> {
    return retryWhileStarting('connecting the Kafka producer', () => this.producer.connect());
  }

  /**
   * Resolves once every in-sync replica has the record. Sent inside a trace, the
   * record gets a `send` span that lasts until then, and carries its context.
   */
  send(topic: string, message: Message): Promise<void> {
    const bytes = (message.value as Buffer | null)?.length ?? 0;
    if (this.waitingRecords + 1 > this.maxQueuedRecords || this.waitingBytes + bytes > this.maxQueuedBytes) {
      this.rejected?.inc({ topic, reason: 'queue_full' });
      return Promise.reject(
        new ProduceRejectedError('queue_full', `the Kafka producer holds ${this.waitingRecords} records (${this.waitingBytes} bytes) not acknowledged yet: its bound`),
      );
    }
    const traced = startSendSpan(topic, message);
    const sent = new Promise<void>((resolve, reject) => {
      this.queue.push({ topic, message: traced.message, queuedAt: performance.now(), bytes, settled: false, resolve, reject });
      this.waitingRecords++;
      this.waitingBytes += bytes;
      this.watchDeadlines();
      if (!this.flushing) {
        this.flushing = true;
        // After the current task, so that records sent together in one tick share a request.
        setImmediate(() => {
          this.flush().catch((error: unknown) => this.abandon(error));
        });
      }
    });
    const { span } = traced;
    if (!span) return sent;
    return sent.then(
      () => span.end(),
      (error: Error) => {
        span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
        span.end();
        throw error;
      },
    );
  }

  /**
   * Sends the queue, request after request. A request that fails fails its records, and the producer that sent it is
   * replaced before the next one: kafkajs rolls its sequence numbers back for every partition of a failed request,
   * also for partitions that the broker had appended before the response was lost. Reused, the producer would send
   * the next batch of such a partition with sequence numbers the broker already has: a batch of the same size is
   * answered as a duplicate and never written (acknowledged, and lost), other sizes fail for good with
   * OUT_OF_ORDER_SEQUENCE_NUMBER. A new producer gets a new producer id, whose sequences start afresh. The failed
   * records may or may not be in the log; their senders retry (clients with the same clientMsgId, messaging by
   * re-running its batch), which the consumers' dedupe makes harmless.
   */
  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.batchLength());
      this.inFlight = batch;
      const byTopic = new Map<string, Pending[]>();
      for (const item of batch) {
        const items = byTopic.get(item.topic) ?? [];
        items.push(item);
        byTopic.set(item.topic, items);
      }
      try {
        if (this.replaceBeforeNextSend) await this.replaceProducer();
        await this.producer.sendBatch({
          acks: -1,
          compression: CompressionTypes.None,
          topicMessages: [...byTopic].map(([topic, items]) => ({ topic, messages: items.map((item) => item.message) })),
        });
        if (this.produceSeconds) this.observeAcked(byTopic);
        for (const item of batch) this.settle(item);
      } catch (error) {
        this.replaceBeforeNextSend = true;
        for (const item of batch) this.settle(item, error as Error);
      }
      this.inFlight = [];
    }
    this.flushing = false;
  }

  /** Answers a record once (acknowledged, or failed with `error`), and lets its room in the bounds go. */
  private settle(pending: Pending, error?: Error): void {
    if (pending.settled) return;
    pending.settled = true;
    this.waitingRecords--;
    this.waitingBytes -= pending.bytes;
    if (error) pending.reject(error);
    else pending.resolve();
  }

  /** While records wait and sends have a deadline: a sweep every quarter of it (at most 250 ms). */
  private watchDeadlines(): void {
    if (this.sendTimeoutMs === undefined || this.deadlineTimer) return;
    const every = Math.max(1, Math.min(250, this.sendTimeoutMs / 4));
    // Not unref'd: it stops once nothing waits, and until then the deadline it keeps is owed.
    this.deadlineTimer = setInterval(() => this.expire(), every);
  }

  /**
   * Fails the records past their deadline: queued ones leave the queue (they never go out), those in the request in
   * flight are answered now (the request goes on; they may land). Both lists are in send order: the old ones first.
   */
  private expire(): void {
    const oldest = performance.now() - this.sendTimeoutMs!;
    const late = () => new ProduceRejectedError('timeout', `Kafka did not acknowledge the record within ${this.sendTimeoutMs} ms`);
    const fail = (item: Pending) => {
      if (item.settled) return;
      this.rejected?.inc({ topic: item.topic, reason: 'timeout' });
      this.settle(item, late());
    };
    for (const item of this.inFlight) if (item.queuedAt <= oldest) fail(item);
    let expired = 0;
    while (expired < this.queue.length && this.queue[expired]!.queuedAt <= oldest) expired++;
    for (const item of this.queue.splice(0, expired)) fail(item);
    if (this.waitingRecords === 0) {
      clearInterval(this.deadlineTimer);
      this.deadlineTimer = undefined;
    }
  }

  /** Disconnects the failed producer (in the background: it may hang on a dead broker) and connects a new one. */
  private async replaceProducer(): Promise<void> {
    const failed = this.producer;
    this.producer = this.newProducer();
    failed.disconnect().catch(() => undefined);
    const fresh = this.producer;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no new Kafka producer within ${this.reconnectDeadlineMs} ms`)), this.reconnectDeadlineMs);
    });
    try {
      await Promise.race([fresh.connect(), deadline]);
    } catch (error) {
      // Still failed: the next request tries a new one again, and this one is let go.
      fresh.disconnect().catch(() => undefined);
      throw error;
    } finally {
      clearTimeout(timer);
    }
    this.replaceBeforeNextSend = false;
  }

  /** A flush that threw outside its per-batch handling (a bug): what still waits fails now instead of never. */
  private abandon(error: unknown): void {
    this.flushing = false;
    const waiting = [...this.inFlight, ...this.queue.splice(0)];
    this.inFlight = [];
    for (const item of waiting) this.settle(item, error instanceof Error ? error : new Error(String(error)));
  }

  private observeAcked(byTopic: Map<string, Pending[]>): void {
    const now = performance.now();
    for (const [topic, items] of byTopic) {
      const histogram = this.produceSeconds!.labels(topic);
      for (const item of items) histogram.observe((now - item.queuedAt) / 1000);
    }
  }

  /** How many queued records the next request takes: at least one, at most maxBatch or maxBatchBytes. */
  private batchLength(): number {
    let bytes = 0;
    let count = 0;
    for (const item of this.queue) {
      bytes += (item.message.value as Buffer | null)?.length ?? 0;
      if (count > 0 && (count >= this.maxBatch || bytes > this.maxBatchBytes)) break;
      count++;
    }
    return count;
  }

  async disconnect(): Promise<void> {
    while (this.flushing) await new Promise((resolve) => setTimeout(resolve, 5));
    clearInterval(this.deadlineTimer);
    this.deadlineTimer = undefined;
    await this.producer.disconnect();
  }
}

function produceHistogram(registry: Registry): Histogram<'topic'> {
  const name = 'chat_kafka_produce_seconds';
  return sharedMetric(
    registry,
    name,
    () =>
      new Histogram({
        name,
        help: 'From a record handed to the producer to every in-sync replica having it (acks=all), waits for earlier requests included',
        labelNames: ['topic'],
        buckets: LATENCY_BUCKETS_SECONDS,
        registers: [registry],
      }),
  );
}

function rejectedCounter(registry: Registry): Counter<'topic' | 'reason'> {
  const name = 'chat_kafka_produce_rejected_total';
  return sharedMetric(
    registry,
    name,
    () =>
      new Counter({
        name,
        help: 'Sends the producer gave up on: reason queue_full (its bound of records or bytes waiting for Kafka was reached) or timeout (not acknowledged within the send deadline)',
        labelNames: ['topic', 'reason'],
        registers: [registry],
      }),
  );
}
