import { createServer, type IncomingMessage } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** One span as a test wants to read it: ids in hex, attributes flattened, the resource's service name beside it. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  service: string;
  attributes: Record<string, unknown>;
  links: Array<{ traceId: string; spanId: string }>;
}

/** One metric data point, flattened the same way. */
export interface ReceivedMetricPoint {
  service: string;
  name: string;
  attributes: Record<string, unknown>;
  value: unknown;
}

export interface OtlpReceiver {
  /** For OTEL_EXPORTER_OTLP_ENDPOINT (http/json: set OTEL_EXPORTER_OTLP_PROTOCOL=http/json). */
  url: string;
  spans: ReceivedSpan[];
  metrics: ReceivedMetricPoint[];
  close(): Promise<void>;
}

type OtlpValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean; arrayValue?: { values?: OtlpValue[] } };
type OtlpAttribute = { key: string; value: OtlpValue };

function valueOf(value: OtlpValue): unknown {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(valueOf);
  return undefined;
}

function attributesOf(attributes: OtlpAttribute[] | undefined): Record<string, unknown> {
  return Object.fromEntries((attributes ?? []).map(({ key, value }) => [key, valueOf(value)]));
}

interface ResourceBlock {
  resource?: { attributes?: OtlpAttribute[] };
}

function serviceOf(block: ResourceBlock): string {
  return String(attributesOf(block.resource?.attributes)['service.name'] ?? '');
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  let body = Buffer.concat(chunks);
  if (request.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
  return JSON.parse(body.toString('utf8'));
}

type TracesRequest = {
  resourceSpans?: Array<ResourceBlock & { scopeSpans?: Array<{ spans?: Array<Record<string, unknown>> }> }>;
};
type MetricsRequest = {
  resourceMetrics?: Array<ResourceBlock & { scopeMetrics?: Array<{ metrics?: Array<Record<string, unknown>> }> }>;
};

function spansOf(request: TracesRequest): ReceivedSpan[] {
  return (request.resourceSpans ?? []).flatMap((block) =>
    (block.scopeSpans ?? []).flatMap((scope) =>
      (scope.spans ?? []).map((span) => ({
        traceId: String(span.traceId),
        spanId: String(span.spanId),
        parentSpanId: String(span.parentSpanId ?? ''),
        name: String(span.name),
        kind: Number(span.kind),
        service: serviceOf(block),
        attributes: attributesOf(span.attributes as OtlpAttribute[]),
        links: ((span.links ?? []) as Array<{ traceId: string; spanId: string }>).map(({ traceId, spanId }) => ({ traceId, spanId })),
      })),
    ),
  );
}

function metricPointsOf(request: MetricsRequest): ReceivedMetricPoint[] {
  return (request.resourceMetrics ?? []).flatMap((block) =>
    (block.scopeMetrics ?? []).flatMap((scope) =>
      (scope.metrics ?? []).flatMap((metric) => {
        const data = (metric.sum ?? metric.gauge ?? metric.histogram) as { dataPoints?: Array<Record<string, unknown>> } | undefined;
        return (data?.dataPoints ?? []).map((point) => ({
          service: serviceOf(block),
          name: String(metric.name),
          attributes: attributesOf(point.attributes as OtlpAttribute[]),
          value: point.asDouble ?? point.asInt ?? (point.count !== undefined ? { count: Number(point.count), sum: point.sum } : undefined),
        }));
      }),
    ),
  );
}

/**
 * A collector for tests: an OTLP/HTTP receiver (JSON encoding) on an ephemeral
 * loopback port that keeps every span and metric point the services export.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const metrics: ReceivedMetricPoint[] = [];
  const server = createServer((request, response) => {
    readBody(request).then(
      (body) => {
        if (request.url === '/v1/traces') spans.push(...spansOf(body as TracesRequest));
        else if (request.url === '/v1/metrics') metrics.push(...metricPointsOf(body as MetricsRequest));
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      },
      (error: Error) => response.writeHead(400).end(error.message),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    metrics,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
