import { context, propagation, ROOT_CONTEXT, SpanKind, trace, type Context, type Span, type TextMapGetter } from '@opentelemetry/api';
import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import { roomRef } from '@chat/telemetry';

/**
 * Kafka spans, written here rather than by @opentelemetry/instrumentation-kafkajs:
 * that one starts every message of a sendBatch under the one context active at the
 * call, so behind our batching producer each record would join whichever send
 * happened to start the batch, and it overwrites the record's traceparent with it.
 * Here each record gets its own `send` span under its sender's context, and the
 * W3C trace context travels in that record's headers.
 */
const tracer = trace.getTracer('@chat/kafka');

const headerGetter: TextMapGetter<IHeaders> = {
  keys: (headers) => Object.keys(headers),
  get: (headers, key) => {
    const value = headers[key];
    if (value === undefined) return undefined;
    return Array.isArray(value) ? value.map(String) : String(value);
  },
};

function messagingAttributes(topic: string) {
  return { 'messaging.system': 'kafka', 'messaging.destination.name': topic };
}

/**
 * Keys are room and user ids: a span names a reference to the key, not the key (docs/security.md), and hashes it only
 * when it is recorded (untraced or sampled out, a record costs no hash).
 */
function withKeyRef(span: Span, key: Message['key']): Span {
  if (key && span.isRecording()) span.setAttribute('chat.record.key_ref', roomRef(String(key)));
  return span;
}

/**
 * A PRODUCER span for one record sent inside a trace, and the record carrying its
 * context. Outside any trace (heartbeats, presence) nothing is added: a span per
 * heartbeat would start a trace of its own.
 */
export function startSendSpan(topic: string, message: Message): { span?: Span; message: Message } {
  const active = context.active();
  if (!trace.getSpan(active)) return { message };
  const span = withKeyRef(
    tracer.startSpan(`send ${topic}`, { kind: SpanKind.PRODUCER, attributes: { ...messagingAttributes(topic), 'messaging.operation.type': 'send' } }, active),
    message.key,
  );
  const headers: IHeaders = { ...message.headers };
  propagation.inject(trace.setSpan(active, span), headers);
  return { span, message: { ...message, headers } };
}

/** The context a record was sent in (its producer span), or the empty context. */
export function recordContext(message: Pick<KafkaMessage, 'headers'>): Context {
  return message.headers ? propagation.extract(ROOT_CONTEXT, message.headers, headerGetter) : ROOT_CONTEXT;
}

/** Whether the record was sent inside a trace. */
export function isTraced(message: Pick<KafkaMessage, 'headers'>): boolean {
  return trace.getSpanContext(recordContext(message)) !== undefined;
}

/** A CONSUMER span for one record, a child of the span that sent it. */
export function startProcessSpan(topic: string, partition: number, message: KafkaMessage): Span {
  const span = tracer.startSpan(
    `process ${topic}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        ...messagingAttributes(topic),
        'messaging.operation.type': 'process',
        'messaging.destination.partition.id': String(partition),
        'messaging.kafka.offset': Number(message.offset),
      },
    },
    recordContext(message),
  );
  return withKeyRef(span, message.key);
}
