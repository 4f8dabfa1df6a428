import type { Kafka } from 'kafkajs';
import { decodePresence, type PresenceRecord } from '@chat/kafka';

/**
 * Reads the last published status of every user in `partitions` of the
 * compacted presence topic, up to its end at the time of the call.
 */
export async function readPublishedStatuses(kafka: Kafka, topic: string, partitions: number[], groupId: string): Promise<PresenceRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
  await admin.disconnect();
  const pending = new Set(partitions.filter((p) => (ends.get(p) ?? 0n) > 0n));
  const latest = new Map<string, PresenceRecord>();
  if (pending.size === 0) return [];
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          if (!pending.has(batch.partition)) return;
          for (const message of batch.messages) {
            const record = decodePresence(message.value);
            if (record) latest.set(record.user.id, record);
          }
          if (BigInt(batch.lastOffset()) + 1n >= ends.get(batch.partition)!) pending.delete(batch.partition);
          if (pending.size === 0) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return [...latest.values()];
}
