import type { Batch, Consumer } from 'kafkajs';
import { Gauge, Histogram, type Registry } from 'prom-client';
import { LATENCY_BUCKETS_SECONDS, sharedMetric } from './metrics';

/**
 * `chat_kafka_consumer_lag{group,topic,partition}`: records left in a partition
 * after the batch just fetched from it (its high watermark minus the batch's
 * last offset plus one), for the partitions this member owns. Read from the
 * fetches the consumer makes anyway, so it costs no request; a consumer that
 * stops fetching altogether keeps its last values (the broker-side view,
 * kafka-consumer-groups.sh --describe, shows that case).
 *
 * `chat_kafka_record_age_seconds{group,topic}`: the same lag in time, from each
 * record's timestamp (its producer's clock when it sent the record) to this
 * consumer reading it: the time a record spent in the producer's request, the
 * broker and the wait for this consumer's next fetch.
 */
export class ConsumerLag {
  private readonly gauge: Gauge<'group' | 'topic' | 'partition'>;
  private readonly age: Histogram<'group' | 'topic'>;
  private readonly reported = new Map<string, { topic: string; partition: string }>();

  constructor(registry: Registry, private readonly group: string) {
    const name = 'chat_kafka_consumer_lag';
    this.gauge = sharedMetric(
      registry,
      name,
      () =>
        new Gauge({
          name,
          help: 'Records behind the end of each owned partition after the last fetched batch, per consumer group',
          labelNames: ['group', 'topic', 'partition'],
          registers: [registry],
        }),
    );
    const ageName = 'chat_kafka_record_age_seconds';
    this.age = sharedMetric(
      registry,
      ageName,
      () =>
        new Histogram({
          name: ageName,
          help: "From a record's producer timestamp to this consumer group reading it",
          labelNames: ['group', 'topic'],
          buckets: LATENCY_BUCKETS_SECONDS,
          registers: [registry],
        }),
    );
  }

  /** Forgets partitions on every rebalance: a partition handed to another member is that member's to report. */
  watch(consumer: Consumer): void {
    consumer.on(consumer.events.GROUP_JOIN, () => {
      for (const { topic, partition } of this.reported.values()) this.gauge.remove({ group: this.group, topic, partition });
      this.reported.clear();
    });
  }

  observe(batch: Pick<Batch, 'topic' | 'partition' | 'offsetLag' | 'messages'>): void {
    const labels = { group: this.group, topic: batch.topic, partition: String(batch.partition) };
    this.reported.set(`${labels.topic}/${labels.partition}`, { topic: labels.topic, partition: labels.partition });
    this.gauge.set(labels, Math.max(0, Number(batch.offsetLag())));
    if (batch.messages.length === 0) return;
    const now = Date.now();
    const age = this.age.labels({ group: this.group, topic: batch.topic });
    for (const message of batch.messages) age.observe(Math.max(0, now - Number(message.timestamp)) / 1000);
  }
}
