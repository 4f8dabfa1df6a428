import { context, ROOT_CONTEXT, trace, type Span } from '@opentelemetry/api';
import type { KafkaMessage } from 'kafkajs';
import { isTraced, startProcessSpan, type SendCommand } from '@chat/kafka';
import type { SentEntry } from '@chat/protocol';
import { tracer } from '@chat/telemetry';
import { sendKey } from '../db/dedupe';

/**
 * The spans of one fetched batch. Every record sent inside a trace gets a
 * `process` span in that trace. The Postgres transaction is one `persist batch`
 * span for the whole batch: a child of the first traced record's span, with
 * links to every record's, so a batch of one is one unbroken trace and a larger
 * one is still reachable from each message. Each room event is published inside
 * the span of the command it came from. Records sent outside any trace (and
 * every record when tracing is off) cost no span at all.
 */
export class BatchTrace {
  private readonly spans: Span[] = [];
  private readonly spanOfCommand = new Map<string, Span>();

  constructor(private readonly topic: string, private readonly partition: number) {}

  record(message: KafkaMessage, command: SendCommand | null): void {
    if (!isTraced(message)) return;
    const span = startProcessSpan(this.topic, this.partition, message);
    this.spans.push(span);
    const key = command && sendKey(command.room, command.sender.id, command.clientMsgId);
    if (key && !this.spanOfCommand.has(key)) this.spanOfCommand.set(key, span);
  }

  persist<T>(commands: number, work: () => Promise<T>): Promise<T> {
    const first = this.spans[0];
    if (!first) return work();
    const span = tracer.startSpan(
      'persist batch',
      {
        attributes: { 'messaging.batch.message_count': commands, 'messaging.destination.partition.id': String(this.partition) },
        links: this.spans.map((record) => ({ context: record.spanContext() })),
      },
      trace.setSpan(ROOT_CONTEXT, first),
    );
    return context.with(trace.setSpan(ROOT_CONTEXT, span), work).finally(() => span.end());
  }

  publishIn<T>(event: SentEntry, publish: () => T): T {
    const span = this.spanOfCommand.get(sendKey(event.room, event.sender.id, event.clientMsgId)) ?? this.spans[0];
    return span ? context.with(trace.setSpan(ROOT_CONTEXT, span), publish) : publish();
  }

  end(): void {
    for (const span of this.spans) span.end();
  }
}
