import type { Kafka } from 'kafkajs';
import { decodePresence, type PresenceRecord } from '@chat/kafka';

/** Long enough to read a compacted partition of every user's status; a read past it is retried by the next batch. */
const READ_DEADLINE_MS = 60_000;
/** How long a read that ended early waits for its consumer's join to finish, so that it can leave its group. */
const JOIN_WAIT_MS = 30_000;

/**
 * Reads the last published status of every user in `partitions` of the
 * compacted presence topic, up to its end at the time of the call. Rejects
 * when the read consumer crashes or the read takes longer than `deadlineMs`:
 * heartbeat batches wait for this read, so it must end one way or the other.
 */
export async function readPublishedStatuses(
  kafka: Kafka,
  topic: string,
  partitions: number[],
  groupId: string,
  deadlineMs = READ_DEADLINE_MS,
): Promise<PresenceRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  let offsets;
  try {
    offsets = await admin.fetchTopicOffsets(topic);
  } finally {
    await admin.disconnect();
  }
  const ends = new Map(offsets.map((p) => [p.partition, BigInt(p.high)]));
  const pending = new Set(partitions.filter((p) => (ends.get(p) ?? 0n) > 0n));
  const latest = new Map<string, PresenceRecord>();
  if (pending.size === 0) return [];
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  let deadline: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      deadline = setTimeout(() => reject(new Error(`reading ${topic} back took longer than ${deadlineMs} ms`)), deadlineMs);
      // run() resolves once the consumer has joined; a crash after that is only an event.
      consumer.on(consumer.events.CRASH, (event) => reject(event.payload.error));
      running = consumer.run({
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
      });
      running.catch(reject);
    });
  } finally {
    clearTimeout(deadline);
    // A disconnect while run() is still joining returns at once, and the join then completes: the member would stay
    // in its group, reading on. So it waits for the join first, within a bound of its own.
    if (running) await settledWithin(running, JOIN_WAIT_MS);
    await consumer.disconnect();
  }
  return [...latest.values()];
}

/** Waits for `promise` to settle, either way, or for `ms`, whichever comes first. */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const elapsed = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  await Promise.race([promise.then(noop, noop), elapsed]);
  clearTimeout(timer);
}

function noop(): void {}
