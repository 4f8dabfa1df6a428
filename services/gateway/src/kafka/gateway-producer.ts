import {
  BatchingProducer,
  encodeHeartbeat,
  encodeLogEntry,
  encodeSendCommand,
  encodeSignOut,
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
import type { SignOut, SignOutLog } from '../ports/sign-out-store';

/** How much the gateway may hold for Kafka, and for how long (GATEWAY_KAFKA_* settings). */
export interface ProduceBounds {
  /** A durable send (a command, a membership entry) not acknowledged in this long fails: the client retries. */
  sendTimeoutMs: number;
  maxQueuedRecords: number;
  maxQueuedBytes: number;
}

/** Typing indicators and heartbeats: a small queue, a short wait, dropped past either. */
const EPHEMERAL: ProduceBounds = { sendTimeoutMs: 2_000, maxQueuedRecords: 2_000, maxQueuedBytes: 1024 * 1024 };

/**
 * Every port the gateway writes to Kafka through, on two batching producers: one for what must be durable (commands,
 * membership entries), bounded in records, bytes and time so that a Kafka outage answers clients `unavailable` within
 * seconds instead of holding their sends and the gateway's memory; and one for what may be dropped (typing,
 * heartbeats), so that its traffic never queues ahead of a send.
 */
export class GatewayProducer implements CommandLog, MembershipLog, EphemeralLog, PresenceLog, SignOutLog {
  private readonly producer: BatchingProducer;
  private readonly ephemeral: BatchingProducer;

  constructor(kafka: Kafka, private readonly topics: TopicNames, bounds: ProduceBounds, metrics?: Registry) {
    this.producer = new BatchingProducer(kafka, { metrics, ...bounds });
    this.ephemeral = new BatchingProducer(kafka, { metrics, ...EPHEMERAL });
  }

  async connect(): Promise<void> {
    await Promise.all([this.producer.connect(), this.ephemeral.connect()]);
  }

  append(command: SendCommand): Promise<void> {
    // Keyed by room: one partition per room keeps its sends in order for its one writer.
    return this.producer.send(this.topics.messages, { key: command.room, value: encodeSendCommand(command) });
  }

  publish(entry: MembershipEvent): Promise<void> {
    // The record messaging publishes for the log's other entries, with the same key: the room's partition.
    return this.producer.send(this.topics.events, { key: entry.room, value: encodeLogEntry(entry) });
  }

  signedOut(signOut: SignOut): Promise<void> {
    // On the event feed, which every gateway reads whole; keyed by the user.
    return this.producer.send(this.topics.events, { key: signOut.userId, value: encodeSignOut(signOut) });
  }

  typing(event: TypingEvent): Promise<void> {
    return this.ephemeral.send(this.topics.events, { key: event.room, value: encodeTyping(event) });
  }

  heartbeat(record: HeartbeatRecord): Promise<void> {
    // Keyed by user: the presence replica that owns the user's partition counts all their gateways.
    return this.ephemeral.send(this.topics.heartbeats, { key: record.user.id, value: encodeHeartbeat(record) });
  }

  async disconnect(): Promise<void> {
    await Promise.all([this.producer.disconnect(), this.ephemeral.disconnect()]);
  }
}
