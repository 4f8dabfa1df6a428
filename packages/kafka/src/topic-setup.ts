import kafkajs, { type Admin } from 'kafkajs';
import { ConfigError, int, str } from '@chat/runtime';
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
  replicationFactor: int('TOPIC_REPLICATION_FACTOR', 1, {
    min: 1,
    max: 32,
    doc: 'Replicas of each partition, for topics it creates; an existing topic with fewer is an error, not changed (docs/kafka.md).',
  }),
  minInsyncReplicas: int('TOPIC_MIN_INSYNC_REPLICAS', 1, { min: 1, max: 32, doc: "Each topic's `min.insync.replicas`; at most `TOPIC_REPLICATION_FACTOR`." }),
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

interface Shortfall {
  topic: string;
  has: number;
  wanted: number;
}

/**
 * Existing topics laid out short of what is wanted: fewer partitions, or partitions with fewer replicas. Neither is
 * changed by topic setup: adding partitions moves rooms, adding replicas is a reassignment an operator runs.
 */
export class TopicLayoutError extends Error {
  constructor(
    readonly partitionsShort: Shortfall[],
    readonly replicasShort: Shortfall[],
  ) {
    const problems: string[] = [];
    if (partitionsShort.length > 0) {
      problems.push(
        `${partitionsShort.map(({ topic, has, wanted }) => `${topic} has ${has} partitions, ${wanted} wanted`).join('; ')}. Adding partitions moves ` +
          'rooms to other partitions: add them by hand with messaging stopped and chat.messages drained (docs/kafka.md), or keep the current count.',
      );
    }
    if (replicasShort.length > 0) {
      problems.push(
        `${replicasShort.map(({ topic, has, wanted }) => `${topic} has partitions with ${has} replicas, ${wanted} wanted`).join('; ')}. ` +
          'Raise the replication factor with a partition reassignment (kafka-reassign-partitions.sh, docs/kafka.md), or lower TOPIC_REPLICATION_FACTOR.',
      );
    }
    super(problems.join(' '));
    this.name = 'TopicLayoutError';
  }
}

/** `min.insync.replicas` above the replication factor makes every acks=all write fail: refused before touching Kafka. */
export function checkTopicSettings(settings: Pick<TopicSettings, 'replicationFactor' | 'minInsyncReplicas'>): void {
  if (settings.minInsyncReplicas > settings.replicationFactor) {
    throw new ConfigError([
      `TOPIC_MIN_INSYNC_REPLICAS (${settings.minInsyncReplicas}) is above TOPIC_REPLICATION_FACTOR (${settings.replicationFactor}): no write could ever be acknowledged`,
    ]);
  }
}

/** Until every partition of `topics` has a leader in the metadata some broker answers with, for at most `deadlineMs`. */
async function waitForLeaders(admin: Admin, topics: string[], deadlineMs = 60_000): Promise<void> {
  const deadline = performance.now() + deadlineMs;
  let last: unknown;
  for (;;) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics });
      if (metadata.topics.length === topics.length && metadata.topics.every(({ partitions }) => partitions.length > 0 && partitions.every(({ leader }) => leader >= 0))) return;
    } catch (error) {
      // A broker that has not heard of a topic yet (UNKNOWN_TOPIC_OR_PARTITION), or a leader not elected yet.
      last = error;
    }
    if (performance.now() > deadline) throw new Error(`topics without a leader after ${deadlineMs} ms: ${topics.join(', ')}${last ? ` (${(last as Error).message})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Where a topic's config value comes from (DescribeConfigs' config_source): set on the topic itself. */
const TOPIC_CONFIG_SOURCE = 1;

/**
 * Creates the topics that are missing and applies the platform's configs to the existing ones, so a re-run (every
 * Helm upgrade) converges on the settings. Configs an operator set on a topic that the platform does not manage are
 * kept: kafkajs has no IncrementalAlterConfigs, and AlterConfigs replaces a topic's whole set of overrides, so the
 * current overrides are read and written back with the platform's on top. (A change an operator makes to the same
 * topic in the few milliseconds between the two requests can be lost.)
 *
 * The layout of existing topics is verified, not assumed: a topic with fewer partitions than wanted, or partitions
 * with fewer replicas, is a TopicLayoutError after the rest is done. A larger replication factor is kept.
 */
export async function ensureTopics(admin: Admin, specs: TopicSpec[]): Promise<TopicSetupResult> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter(({ topic }) => !existing.has(topic));
  const present = specs.filter(({ topic }) => existing.has(topic));
  if (missing.length > 0) {
    await admin.createTopics({
      // kafkajs' own wait asks one broker, which in a cluster may not have the new topics' metadata yet, and gives
      // up on its UNKNOWN_TOPIC_OR_PARTITION: waitForLeaders below asks until every partition has a leader.
      waitForLeaders: false,
      topics: missing.map(({ topic, numPartitions, replicationFactor, configs }) => ({
        topic,
        numPartitions,
        replicationFactor,
        configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })),
      })),
    });
    await waitForLeaders(admin, missing.map(({ topic }) => topic));
  }
  if (present.length === 0) return { created: missing.map(({ topic }) => topic), updated: [] };
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: present.map(({ topic }) => ({ type: ConfigResourceTypes.TOPIC, name: topic })),
  });
  const overrides = new Map(
    resources.map(({ resourceName, configEntries }) => [
      resourceName,
      configEntries.filter(({ configSource }) => configSource === TOPIC_CONFIG_SOURCE).map(({ configName, configValue }) => [configName, configValue] as const),
    ]),
  );
  await admin.alterConfigs({
    validateOnly: false,
    resources: present.map(({ topic, configs }) => ({
      type: ConfigResourceTypes.TOPIC,
      name: topic,
      configEntries: Object.entries({ ...Object.fromEntries(overrides.get(topic) ?? []), ...configs }).map(([name, value]) => ({ name, value })),
    })),
  });
  const { topics } = await admin.fetchTopicMetadata({ topics: present.map(({ topic }) => topic) });
  const wanted = new Map(specs.map((spec) => [spec.topic, spec]));
  const partitionsShort = topics
    .map(({ name, partitions }) => ({ topic: name, has: partitions.length, wanted: wanted.get(name)!.numPartitions }))
    .filter(({ has, wanted }) => has < wanted);
  const replicasShort = topics
    .map(({ name, partitions }) => ({ topic: name, has: Math.min(...partitions.map(({ replicas }) => replicas.length)), wanted: wanted.get(name)!.replicationFactor }))
    .filter(({ has, wanted }) => has < wanted);
  if (partitionsShort.length > 0 || replicasShort.length > 0) throw new TopicLayoutError(partitionsShort, replicasShort);
  return { created: missing.map(({ topic }) => topic), updated: present.map(({ topic }) => topic) };
}
