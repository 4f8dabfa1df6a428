// First: kafkajs must load with its fixes in place (kafkajs-fixes.ts).
import { producersWithPartitionRetries } from './kafkajs-fixes';
import { SpanStatusCode } from '@opentelemetry/api';
import { CompressionTypes, Kafka, type Message, type Producer } from 'kafkajs';
import { Histogram, type Registry } from 'prom-client';
import { LATENCY_BUCKETS_SECONDS, sharedMetric } from './metrics';
import { KeyPartitioner } from './partitioner';
import { retryWhileStarting } from './startup';
import { startSendSpan } from './tracing';

interface Pending {
  topic: string;
  message: Message;
  /** performance.now() when it was sent, for chat_kafka_produce_seconds. */
  queuedAt: number;
  resolve: () => void;
  reject: (error: Error) => void;
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
  private flushing = false;
  private readonly maxBatch: number;
  private readonly maxBatchBytes: number;
  private readonly produceSeconds?: Histogram<'topic'>;

  constructor(
    private readonly kafka: Kafka,
    options: BatchingProducerOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 1_000;
    this.maxBatchBytes = options.maxBatchBytes ?? 512 * 1024;
    this.reconnectDeadlineMs = options.reconnectDeadlineMs ?? 30_000;
    if (options.metrics) this.produceSeconds = produceHistogram(options.metrics);
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
    const traced = startSendSpan(topic, message);
    const sent = new Promise<void>((resolve, reject) => {
      this.queue.push({ topic, message: traced.message, queuedAt: performance.now(), resolve, reject });
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
        for (const item of batch) item.resolve();
      } catch (error) {
        this.replaceBeforeNextSend = true;
        for (const item of batch) item.reject(error as Error);
      }
    }
    this.flushing = false;
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
    for (const item of this.queue.splice(0)) item.reject(error instanceof Error ? error : new Error(String(error)));
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
