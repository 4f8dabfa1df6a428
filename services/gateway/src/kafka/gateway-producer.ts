import { BatchingProducer, encodeSendCommand, type Kafka, type SendCommand } from '@chat/kafka';

/** Where accepted sends go. Resolves once the send is durable (acks=all). */
export interface CommandLog {
  append(command: SendCommand): Promise<void>;
}

export class KafkaCommandLog implements CommandLog {
  private readonly producer: BatchingProducer;

  constructor(kafka: Kafka, private readonly topic: string) {
    this.producer = new BatchingProducer(kafka);
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  append(command: SendCommand): Promise<void> {
    // Keyed by room: one partition per room keeps its sends in order for the one writer.
    return this.producer.send(this.topic, { key: command.room, value: encodeSendCommand(command) });
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }
}
