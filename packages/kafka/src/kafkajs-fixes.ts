// The declaration travels with this file into every workspace that compiles it (an ambient module cannot be imported).
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="./kafkajs-internals.d.ts" />
// Fixes to kafkajs 2.2.4 (its last release) applied where the client is made, for every process that imports
// @chat/kafka. docs/kafka.md lists them with the upstream issues; each has a test in kafkajs-fixes.test.ts.
import { createRequire, Module } from 'node:module';
import RequestQueue from 'kafkajs/src/network/requestQueue/index.js';
import kafkajsErrors from 'kafkajs/src/errors.js';
import kafkajsProtocolErrors from 'kafkajs/src/protocol/error.js';
import responseSerializer from 'kafkajs/src/producer/responseSerializer.js';

/** kafkajs' own interval for re-checking a queue whose requests wait on the in-flight limit. */
const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;

/**
 * tulios/kafkajs#1751: every broker connection's request queue re-armed a timer of `throttledUntil - Date.now()` ms
 * after each check, and with no throttle in force that is about minus the epoch, which Node clamps to 1 ms (Node 24
 * also prints a TimeoutNegativeWarning). The check then schedules the next one: from its first response on, each
 * connection woke its process about 800 times a second, idle or not, for its whole life. Here a check is scheduled
 * only while requests wait: at the throttle's end, or every 10 ms while the in-flight limit holds them (as before).
 * With none waiting nothing is lost: push() schedules a check when it queues a request, and every fulfilled request
 * checks the queue.
 */
RequestQueue.prototype.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: RequestQueue) {
  if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
  const untilUnthrottled = this.throttledUntil - Date.now();
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    },
    untilUnthrottled > 0 ? untilUnthrottled : CHECK_PENDING_REQUESTS_INTERVAL_MS,
  );
};

/**
 * kafkajs 2.2.4's sendMessages (src/producer/sendMessages.js) retries a send by broker: a retry sends to the current
 * leaders of the send's partitions, skipping every broker that has answered once in this send. A partition whose
 * request failed (NOT_LEADER_OR_FOLLOWER, a timeout, a dropped connection) and whose leadership then moved to a
 * broker that had answered for other partitions is sent to nobody, and the send resolves: its records are
 * acknowledged and never written. The fault suite lost whole batches of acknowledged messages this way under broker
 * restarts (docs/reliability.md). Partitions whose leader is missing from the metadata were skipped likewise.
 *
 * The replacement keeps what is still unanswered per partition. Each record's partition is chosen once, on the first
 * attempt (a retry of a keyless record must not move it to a partition that has already answered); each attempt
 * sends every unanswered partition to its leader of the moment, and a partition is done once its leader has answered
 * for it. Sequence numbers, the per-broker lock and the error handling between attempts are kafkajs' own.
 */
interface PartitionMetadata {
  partitionId: number;
  leader: number | null;
}
interface ProduceBroker {
  nodeId: number;
  produce(request: object): Promise<unknown>;
}
interface Cluster {
  refreshMetadataIfNecessary(): Promise<void>;
  refreshMetadata(): Promise<void>;
  addMultipleTargetTopics(topics: string[]): Promise<void>;
  findTopicPartitionMetadata(topic: string): PartitionMetadata[];
  findBroker(options: { nodeId: string }): Promise<ProduceBroker>;
  removeBroker(options: { host: string; port: number }): void;
  isConnected(): boolean;
  connect(): Promise<void>;
}
interface EosManager {
  isTransactional(): boolean;
  getTransactionalId(): string;
  getProducerId(): number;
  getProducerEpoch(): number;
  getSequence(topic: string, partition: number): number;
  updateSequence(topic: string, partition: number, increment: number): void;
  addPartitionsToTransaction(topicData: TopicData[]): Promise<void>;
  acquireBrokerLock(broker: ProduceBroker): Promise<void>;
  releaseBrokerLock(broker: ProduceBroker): Promise<void>;
}
type Partitioner = (args: { topic: string; partitionMetadata: PartitionMetadata[]; message: unknown }) => number;
interface TopicData {
  topic: string;
  partitions: { partition: number; messages: unknown[]; firstSequence?: number }[];
}
type Retrier = <T>(fn: (bail: (error: Error) => void, retryCount: number, retryTime: number) => Promise<T>) => Promise<T>;
interface KafkajsError extends Error {
  retriable?: boolean;
  type?: string;
  host?: string;
  port?: number;
}
interface SendContext {
  logger: { debug(message: string, extra?: object): void; error(message: string, extra?: object): void };
  cluster: Cluster;
  partitioner: Partitioner;
  eosManager: EosManager;
  retrier: Retrier;
}
interface SendRequest {
  acks: number;
  timeout?: number;
  compression?: number;
  topicMessages: { topic: string; messages: unknown[] }[];
}

const { KafkaJSMetadataNotLoaded } = kafkajsErrors;
const { staleMetadata } = kafkajsProtocolErrors;

/** How many producers have been made with the replacement: BatchingProducer checks that its own was. */
export let producersWithPartitionRetries = 0;

export function createSendMessages({ logger, cluster, partitioner, eosManager, retrier }: SendContext) {
  producersWithPartitionRetries++;
  return async ({ acks, timeout, compression, topicMessages }: SendRequest): Promise<unknown[]> => {
    /** Per topic, per partition, the records not yet answered for; chosen on the first attempt with metadata. */
    let unanswered: Map<string, Map<number, unknown[]>> | undefined;
    const answers: unknown[][] = [];

    const assign = (): Map<string, Map<number, unknown[]>> => {
      const byTopic = new Map<string, Map<number, unknown[]>>();
      for (const { topic, messages } of topicMessages) {
        const partitionMetadata = cluster.findTopicPartitionMetadata(topic);
        if (partitionMetadata.length === 0) throw new KafkaJSMetadataNotLoaded('Producing to topic without metadata');
        const byPartition = byTopic.get(topic) ?? new Map<number, unknown[]>();
        for (const message of messages) {
          const partition = partitioner({ topic, partitionMetadata, message });
          const records = byPartition.get(partition) ?? [];
          records.push(message);
          byPartition.set(partition, records);
        }
        byTopic.set(topic, byPartition);
      }
      return byTopic;
    };

    const attempt = async (): Promise<void> => {
      await cluster.refreshMetadataIfNecessary();
      unanswered ??= assign();
      const perLeader = new Map<number, TopicData[]>();
      for (const [topic, byPartition] of unanswered) {
        const metadata = cluster.findTopicPartitionMetadata(topic);
        for (const [partition, messages] of byPartition) {
          const leader = metadata.find((candidate) => candidate.partitionId === partition)?.leader;
          if (leader === undefined || leader === null || leader < 0) throw new KafkaJSMetadataNotLoaded(`No leader known for ${topic}/${partition}`);
          const topics = perLeader.get(leader) ?? [];
          let entry = topics.find((candidate) => candidate.topic === topic);
          if (!entry) topics.push((entry = { topic, partitions: [] }));
          entry.partitions.push({ partition, messages });
          perLeader.set(leader, topics);
        }
      }
      const requests = [...perLeader].map(async ([nodeId, grouped]) => {
        const broker = await cluster.findBroker({ nodeId: String(nodeId) });
        await eosManager.acquireBrokerLock(broker);
        try {
          // An attempt that failed at one broker goes again while another broker's request of it may be in flight:
          // what that request answered for by now is not sent twice (with sequence numbers after its own: written twice).
          const topicData = grouped
            .map(({ topic, partitions }) => ({ topic, partitions: partitions.filter(({ partition }) => unanswered!.get(topic)!.has(partition)) }))
            .filter(({ partitions }) => partitions.length > 0);
          if (topicData.length === 0) return;
          if (eosManager.isTransactional()) await eosManager.addPartitionsToTransaction(topicData);
          for (const { topic, partitions } of topicData) {
            for (const entry of partitions) {
              entry.firstSequence = eosManager.getSequence(topic, entry.partition);
              eosManager.updateSequence(topic, entry.partition, entry.messages.length);
            }
          }
          let response: unknown;
          try {
            response = await broker.produce({
              transactionalId: eosManager.isTransactional() ? eosManager.getTransactionalId() : undefined,
              producerId: eosManager.getProducerId(),
              producerEpoch: eosManager.getProducerEpoch(),
              acks,
              timeout,
              compression,
              topicData,
            });
          } catch (error) {
            // Sent again with the same sequence numbers: a broker that did append them answers as for a duplicate.
            for (const { topic, partitions } of topicData) for (const entry of partitions) eosManager.updateSequence(topic, entry.partition, -entry.messages.length);
            throw error;
          }
          answers.push(acks !== 0 ? responseSerializer(response) : []);
          for (const { topic, partitions } of topicData) for (const { partition } of partitions) unanswered!.get(topic)!.delete(partition);
        } finally {
          await eosManager.releaseBrokerLock(broker);
        }
      });
      await Promise.all(requests);
    };

    return retrier(async (bail, retryCount, retryTime) => {
      await cluster.addMultipleTargetTopics(topicMessages.map(({ topic }) => topic));
      try {
        await attempt();
        return answers.flat();
      } catch (caught) {
        const error = caught as KafkajsError;
        if (error.name === 'KafkaJSConnectionClosedError') cluster.removeBroker({ host: error.host!, port: error.port! });
        if (!cluster.isConnected()) {
          logger.debug(`Cluster has disconnected, reconnecting: ${error.message}`, { retryCount, retryTime });
          await cluster.connect();
          await cluster.refreshMetadata();
          throw error;
        }
        if (
          staleMetadata(error) ||
          error.name === 'KafkaJSMetadataNotLoaded' ||
          error.name === 'KafkaJSConnectionError' ||
          error.name === 'KafkaJSConnectionClosedError' ||
          (error.name === 'KafkaJSProtocolError' && error.retriable)
        ) {
          logger.error(`Failed to send messages: ${error.message}`, { retryCount, retryTime });
          await cluster.refreshMetadata();
          throw error;
        }
        logger.error(error.message, { retryCount, retryTime });
        if (error.retriable) throw error;
        bail(error);
        return [];
      }
    });
  };
}

/**
 * Installed in place of kafkajs' module before kafkajs loads its producer (src/producer/messageProducer.js takes
 * sendMessages when it loads): importing @chat/kafka, or this file, before anything that loads kafkajs does that.
 * A producer made from a kafkajs loaded earlier keeps the original; BatchingProducer refuses to run with one. In the
 * images' bundles there is no kafkajs on disk to resolve: the bundler puts this function in that module's place
 * (infra/images/bundle.mjs).
 */
function installSendMessages(): void {
  const kafkajsRequire = createRequire(import.meta.url);
  let sendMessagesPath: string;
  let messageProducerPath: string;
  try {
    sendMessagesPath = kafkajsRequire.resolve('kafkajs/src/producer/sendMessages.js');
    messageProducerPath = kafkajsRequire.resolve('kafkajs/src/producer/messageProducer.js');
  } catch {
    return; // bundled
  }
  if (kafkajsRequire.cache[messageProducerPath]) return;
  const replacement = new Module(sendMessagesPath);
  replacement.filename = sendMessagesPath;
  replacement.loaded = true;
  replacement.exports = createSendMessages;
  kafkajsRequire.cache[sendMessagesPath] = replacement;
}
installSendMessages();
