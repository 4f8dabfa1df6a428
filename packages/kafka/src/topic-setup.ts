import kafkajs, { type Admin } from 'kafkajs';
import { int, str } from '@chat/runtime';
import { kafkaConnectionConfigSpec } from './connection';
import type { TopicNames } from './topics';

// kafkajs is CommonJS: its enums are reachable through the default export only.
const { ConfigResourceTypes } = kafkajs;

/** What `create-topics` (cli.ts) reads; the chart's topic Job sets it from values.yaml's kafka.topics. */
export const createTopicsConfigSpec = {
  ...kafkaConnectionConfigSpec,
  topicPrefix: str('KAFKA_TOPIC_PREFIX', '', { doc: 'Prepended to every topic name.' }),
  partitions: int('TOPIC_PARTITIONS', 6, {
    min: 1,
    max: 10_000,
    doc: 'Partitions of every topic. A topic that has fewer is an error, not grown: adding partitions moves rooms (docs/kafka.md).',
  }),
  replicationFactor: int('TOPIC_REPLICATION_FACTOR', 1, { min: 1, max: 32, doc: 'Replicas of each partition, for topics it creates.' }),
  minInsyncReplicas: int('TOPIC_MIN_INSYNC_REPLICAS', 1, { min: 1, max: 32, doc: "Each topic's `min.insync.replicas`." }),
  messagesRetentionMs: int('TOPIC_MESSAGES_RETENTION_MS', 7 * 24 * 3600 * 1000, { min: 60_000, doc: 'How long `chat.messages` keeps records (`retention.ms`).' }),
  eventsRetentionMs: int('TOPIC_EVENTS_RETENTION_MS', 24 * 3600 * 1000, { min: 60_000, doc: 'How long `chat.events` keeps records (`retention.ms`).' }),
  heartbeatsRetentionMs: int('TOPIC_HEARTBEATS_RETENTION_MS', 3600 * 1000, { min: 60_000, doc: 'How long `chat.presence.heartbeats` keeps records (`retention.ms`).' }),
  deadLettersRetentionMs: int('TOPIC_DLQ_RETENTION_MS', 30 * 24 * 3600 * 1000, {
    min: 60_000,
    doc: 'How long `chat.messages.dlq` keeps records: long enough for an operator to look at what landed there and replay it (docs/kafka.md).',
  }),
};

export interface TopicSettings {
  partitions: number;
  replicationFactor: number;
  minInsyncReplicas: number;
  retentionMs: { messages: number; events: number; heartbeats: number; deadLetters: number };
}

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  replicationFactor: number;
  configs: Record<string, string>;
}

/**
 * The platform's topics as docs/kafka.md describes them: one partition count for all
 * (presence and heartbeats must match; messages and events share the room key),
 * retention per topic, a compacted presence table.
 */
export function chatTopicSpecs(names: TopicNames, settings: TopicSettings): TopicSpec[] {
  const spec = (topic: string, configs: Record<string, string>): TopicSpec => ({
    topic,
    numPartitions: settings.partitions,
    replicationFactor: settings.replicationFactor,
    configs: { 'min.insync.replicas': String(settings.minInsyncReplicas), ...configs },
  });
  return [
    spec(names.messages, { 'retention.ms': String(settings.retentionMs.messages) }),
    spec(names.events, { 'retention.ms': String(settings.retentionMs.events) }),
    spec(names.heartbeats, { 'retention.ms': String(settings.retentionMs.heartbeats) }),
    spec(names.presence, { 'cleanup.policy': 'compact' }),
    spec(names.deadLetters, { 'retention.ms': String(settings.retentionMs.deadLetters) }),
  ];
}

export interface TopicSetupResult {
  created: string[];
  /** Existing topics whose settings were (re)applied. */
  updated: string[];
}

export class PartitionCountError extends Error {
  constructor(readonly shortOf: { topic: string; has: number; wanted: number }[]) {
    const list = shortOf.map(({ topic, has, wanted }) => `${topic} has ${has} partitions, ${wanted} wanted`).join('; ');
    super(
      `${list}. Adding partitions moves rooms to other partitions: add them by hand with messaging stopped and ` +
        'chat.messages drained (docs/kafka.md), or keep the current count.',
    );
    this.name = 'PartitionCountError';
  }
}

/**
 * Creates the topics that are missing and applies the configs of the existing ones, so a
 * re-run (every Helm upgrade) converges on the settings. Partitions are never added by
 * this: a topic with fewer than wanted is a PartitionCountError, after the rest is done.
 */
export async function ensureTopics(admin: Admin, specs: TopicSpec[]): Promise<TopicSetupResult> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter(({ topic }) => !existing.has(topic));
  const present = specs.filter(({ topic }) => existing.has(topic));
  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map(({ topic, numPartitions, replicationFactor, configs }) => ({
        topic,
        numPartitions,
        replicationFactor,
        configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })),
      })),
    });
  }
  if (present.length === 0) return { created: missing.map(({ topic }) => topic), updated: [] };
  // AlterConfigs (not incremental) sets exactly these dynamic configs on each topic.
  await admin.alterConfigs({
    validateOnly: false,
    resources: present.map(({ topic, configs }) => ({
      type: ConfigResourceTypes.TOPIC,
      name: topic,
      configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })),
    })),
  });
  const { topics } = await admin.fetchTopicMetadata({ topics: present.map(({ topic }) => topic) });
  const shortOf = topics
    .map(({ name, partitions }) => ({ topic: name, has: partitions.length, wanted: specs.find((spec) => spec.topic === name)!.numPartitions }))
    .filter(({ has, wanted }) => has < wanted);
  if (shortOf.length > 0) throw new PartitionCountError(shortOf);
  return { created: missing.map(({ topic }) => topic), updated: present.map(({ topic }) => topic) };
}
