/**
 * Topic names. A prefix lets tests and parallel stacks share one broker
 * without seeing each other's records.
 */
export interface TopicNames {
  /** Send commands, key = room id; consumed by the messaging group. */
  messages: string;
  /** Persisted room events in seq order, key = room id; read whole by every gateway. */
  events: string;
}

export function topicNames(prefix = ''): TopicNames {
  return { messages: `${prefix}chat.messages`, events: `${prefix}chat.events` };
}

/** Partition counts of the local stack; a cluster sets its own (docs/kafka.md). */
export const DEFAULT_PARTITIONS = { messages: 6, events: 6 } as const;
