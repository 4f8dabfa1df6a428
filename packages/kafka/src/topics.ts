/**
 * Topic names. A prefix lets tests and parallel stacks share one broker
 * without seeing each other's records.
 */
export interface TopicNames {
  /** Send commands, key = room id; consumed by the messaging group. */
  messages: string;
  /** Persisted room events in seq order, key = room id; read whole by every gateway. */
  events: string;
  /** Gateways' connection counts per user, key = user id; consumed by the presence group, partitioned by user. */
  heartbeats: string;
  /** Online/offline per user, key = user id, compacted; read whole by every gateway. Same partition count as heartbeats. */
  presence: string;
  /**
   * Send commands messaging cannot store (invalid fields, refused by Postgres), each as it was on chat.messages with
   * headers saying why and where it came from; written by messaging, read by operators (docs/kafka.md).
   */
  deadLetters: string;
}

export function topicNames(prefix = ''): TopicNames {
  return {
    messages: `${prefix}chat.messages`,
    events: `${prefix}chat.events`,
    heartbeats: `${prefix}chat.presence.heartbeats`,
    presence: `${prefix}chat.presence`,
    deadLetters: `${prefix}chat.messages.dlq`,
  };
}
