import {
  BatchingProducer,
  encodeHeartbeat,
  encodeLogEntry,
  encodeSendCommand,
  encodeTyping,
  type HeartbeatRecord,
  type Kafka,
  type SendCommand,
  type TopicNames,
} from '@chat/kafka';
import type { Registry } from 'prom-client';
import type { MembershipEvent, TypingEvent } from '@chat/protocol';
import type { CommandLog } from '../ports/command-log';
import type { EphemeralLog } from '../ports/ephemeral-log';
import type { MembershipLog } from '../ports/membership-log';
import type { PresenceLog } from '../ports/presence-log';

/** Every port the gateway writes to Kafka through: one batching producer for all of them. */
export class GatewayProducer implements CommandLog, MembershipLog, EphemeralLog, PresenceLog {
  private readonly producer: BatchingProducer;

  constructor(kafka: Kafka, private readonly topics: TopicNames, metrics?: Registry) {
    this.producer = new BatchingProducer(kafka, { metrics });
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  append(command: SendCommand): Promise<void> {
    // Keyed by room: one partition per room keeps its sends in order for its one writer.
    return this.producer.send(this.topics.messages, { key: command.room, value: encodeSendCommand(command) });
  }

  publish(entry: MembershipEvent): Promise<void> {
    // The record messaging publishes for the log's other entries, with the same key: the room's partition.
    return this.producer.send(this.topics.events, { key: entry.room, value: encodeLogEntry(entry) });
  }

  typing(event: TypingEvent): Promise<void> {
    return this.producer.send(this.topics.events, { key: event.room, value: encodeTyping(event) });
  }

  heartbeat(record: HeartbeatRecord): Promise<void> {
    // Keyed by user: the presence replica that owns the user's partition counts all their gateways.
    return this.producer.send(this.topics.heartbeats, { key: record.user.id, value: encodeHeartbeat(record) });
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }
}
