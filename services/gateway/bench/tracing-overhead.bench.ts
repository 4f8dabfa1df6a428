/**
 * What tracing costs on the hot path, in process (no Kafka, no Postgres: a
 * stand-in producer acks at once, so only our own code is measured). Each mode
 * runs in a child process started the way services are, with the telemetry
 * bootstrap:
 *   off      no OTLP endpoint: the SDK is not started, every span is the API's no-op
 *   sampled  endpoint set (a local OTLP receiver), every trace recorded and exported
 *   1%       endpoint set, OTEL_TRACES_SAMPLER=parentbased_traceidratio 0.01
 *   none     endpoint set, OTEL_TRACES_SAMPLER=always_off: what the context manager alone costs
 * Per message: a root span (as for a WebSocket frame), a send through the
 * batching producer (send span, traceparent header), and on the consuming side
 * a process span from the record's headers (none when the record carries no context).
 * Here rather than in packages/telemetry: the packages it uses (@chat/kafka,
 * @chat/testkit) depend on telemetry through @chat/runtime, and the gateway on all
 * of them. Run through `npm run bench -- tracing`, or on its own with
 *   node --import tsx services/gateway/bench/tracing-overhead.bench.ts
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { emitMarkdown } from './harness/report';

const MESSAGES = 100_000;
const CONCURRENT = 500;

async function measure(): Promise<void> {
  const { trace } = await import('@opentelemetry/api');
  const { BatchingProducer, isTraced, startProcessSpan } = await import('@chat/kafka');
  const sent: Array<{ headers?: Record<string, unknown> }> = [];
  const kafka = {
    producer: () => ({
      connect: async () => undefined,
      disconnect: async () => undefined,
      sendBatch: async ({ topicMessages }: { topicMessages: Array<{ messages: Array<{ headers?: Record<string, unknown> }> }> }) => {
        for (const topic of topicMessages) sent.push(...topic.messages);
        return [];
      },
    }),
  };
  const producer = new BatchingProducer(kafka as never);
  const tracer = trace.getTracer('bench');
  const value = Buffer.from('x'.repeat(200));
  const run = async (count: number) => {
    sent.length = 0;
    for (let done = 0; done < count; done += CONCURRENT) {
      await Promise.all(
        Array.from({ length: CONCURRENT }, () =>
          tracer.startActiveSpan('websocket send', { root: true }, async (span) => {
            await producer.send('chat.messages', { key: 'room', value });
            span.end();
          }),
        ),
      );
    }
    // As the consumers do: a span only for a record sent inside a trace.
    for (const [offset, record] of sent.entries()) {
      const message = { ...record, key: null, value, offset: String(offset), timestamp: '0', attributes: 0 } as never;
      if (isTraced(message)) startProcessSpan('chat.messages', 0, message).end();
    }
  };
  await run(20_000);
  const cpu = process.cpuUsage();
  const started = performance.now();
  await run(MESSAGES);
  const elapsedMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const traced = sent.filter((record) => record.headers?.traceparent).length;
  console.log(JSON.stringify({ usPerMessage: (elapsedMs * 1000) / MESSAGES, cpuUsPerMessage: (used.user + used.system) / MESSAGES, traced }));
}

if (process.env.OVERHEAD_MODE) {
  await measure();
  // The SDK flushes on its own timers; the figures are already out.
  process.exit(0);
} else {
  const { startOtlpReceiver } = await import('@chat/testkit');
  const receiver = await startOtlpReceiver();
  const on = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_METRICS_EXPORTER: 'none' };
  const modes: Array<[string, Record<string, string>]> = [
    ['off (no endpoint)', {}],
    ['on, every trace', on],
    ['on, 1% sampled', { ...on, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.01' }],
    ['on, nothing sampled', { ...on, OTEL_TRACES_SAMPLER: 'always_off' }],
  ];
  const self = fileURLToPath(import.meta.url);
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const rows = ['| mode | wall µs/message | CPU µs/message | records with traceparent |', '|---|---|---|---|'];
  console.log(rows.join('\n'));
  for (const [name, env] of modes) {
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--import', '@chat/telemetry/register', self], {
      cwd: root,
      env: { ...process.env, ...env, OVERHEAD_MODE: name },
      encoding: 'utf8',
    });
    const line = child.stdout.trim().split('\n').at(-1) ?? '';
    const result = JSON.parse(line || '{}') as { usPerMessage: number; cpuUsPerMessage: number; traced: number };
    rows.push(`| ${name} | ${result.usPerMessage?.toFixed(2)} | ${result.cpuUsPerMessage?.toFixed(2)} | ${result.traced} of ${MESSAGES} |`);
    console.log(rows.at(-1));
    if (child.status !== 0) {
      console.error(child.stderr);
      // npm run bench records nothing of a failed benchmark, rather than a row without figures.
      process.exitCode = 1;
    }
  }
  await receiver.close();
  emitMarkdown(`## Tracing overhead on the hot path, in process

Per message, in one process with the telemetry bootstrap: a root span (as for a WebSocket frame), a send through the
batching producer to a stand-in that acks at once (no Kafka: only our code is measured), and the consumer's process
span from the record's headers. ${MESSAGES.toLocaleString('en')} messages, ${CONCURRENT} at a time, after 20,000 uncounted.

${rows.join('\n')}
`);
}
