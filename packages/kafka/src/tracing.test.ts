import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { Kafka, Message } from 'kafkajs';
import { BatchingProducer } from './batching-producer';
import { recordContext, startProcessSpan } from './tracing';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
trace.setGlobalTracerProvider(provider);
after(() => {
  trace.disable();
  context.disable();
  propagation.disable();
});

/** A stand-in for kafkajs that keeps every record of every request. */
function recordingKafka(requests: Message[][]): Kafka {
  return {
    producer: () => ({
      connect: async () => undefined,
      disconnect: async () => undefined,
      sendBatch: async ({ topicMessages }: { topicMessages: Array<{ messages: Message[] }> }) => {
        requests.push(topicMessages.flatMap((t) => t.messages));
        return [];
      },
    }),
  } as unknown as Kafka;
}

test('records batched into one request each carry the trace of their own sender, under a send span of their own', async () => {
  exporter.reset();
  const requests: Message[][] = [];
  const producer = new BatchingProducer(recordingKafka(requests));
  const tracer = trace.getTracer('test');
  const senders = ['first', 'second', 'third'].map((name) => tracer.startSpan(name));
  await Promise.all(
    senders.map((span, i) => context.with(trace.setSpan(context.active(), span), () => producer.send('chat.messages', { key: 'room', value: Buffer.from(String(i)) }))),
  );
  await producer.send('chat.presence.heartbeats', { key: 'user', value: Buffer.from('untraced') });

  assert.equal(requests[0]!.length, 3, 'the three traced sends shared one request');
  const sendSpans = exporter.getFinishedSpans().filter((s) => s.name === 'send chat.messages');
  assert.equal(sendSpans.length, 3);
  requests[0]!.forEach((record, i) => {
    const carried = trace.getSpanContext(recordContext({ headers: record.headers! }))!;
    const sendSpan = sendSpans.find((s) => s.spanContext().spanId === carried.spanId)!;
    assert.ok(sendSpan, `record ${i} names its own send span`);
    assert.equal(carried.traceId, senders[i]!.spanContext().traceId, `record ${i} is in its sender's trace`);
    assert.equal(sendSpan.parentSpanContext?.spanId, senders[i]!.spanContext().spanId);
  });
  assert.equal(requests[1]![0]!.headers, undefined, 'a send outside any trace adds no headers and no span');
  assert.equal(exporter.getFinishedSpans().length, 3);
});

test('a consumer span continues the trace its record was sent in', () => {
  exporter.reset();
  const parent = trace.getTracer('test').startSpan('send');
  const headers: Record<string, string> = {};
  propagation.inject(trace.setSpan(context.active(), parent), headers);
  const message = { key: Buffer.from('room'), value: null, headers: { traceparent: Buffer.from(headers.traceparent!) }, offset: '41', timestamp: '0', attributes: 0 };
  const span = startProcessSpan('chat.events', 3, message);
  span.end();
  const [finished] = exporter.getFinishedSpans();
  assert.equal(finished!.name, 'process chat.events');
  assert.equal(finished!.spanContext().traceId, parent.spanContext().traceId);
  assert.equal(finished!.parentSpanContext?.spanId, parent.spanContext().spanId);
  assert.equal(finished!.attributes['messaging.kafka.offset'], 41);
});
