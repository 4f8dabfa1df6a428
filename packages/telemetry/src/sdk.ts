import { FastifyOtelInstrumentation } from '@fastify/otel';
import { OTLPMetricExporter as OTLPGrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as OTLPJsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as OTLPProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION, ATTR_URL_PATH, ATTR_URL_QUERY } from '@opentelemetry/semantic-conventions';
import type { Attributes } from '@opentelemetry/api';
import { PrometheusBridge } from './prometheus-bridge';
import { redactQuery, redactUrl } from './redact';
import { serviceIdentity } from './service-identity';
import type { TelemetrySettings } from './settings';
import { setTelemetryHandle } from './handle';

/** Paths that are polled, not used: spans for them would drown the traces that matter. */
const UNTRACED_PATHS = /^\/(healthz|readyz|metrics)(\?|$)/;

/** The http server span's path and query, redacted (they replace what the instrumentation read off the request). */
function redactedUrlAttributes(url: string): Attributes {
  const mark = url.indexOf('?');
  const path = redactUrl(mark === -1 ? url : url.slice(0, mark));
  return mark === -1 || mark === url.length - 1 ? { [ATTR_URL_PATH]: path } : { [ATTR_URL_PATH]: path, [ATTR_URL_QUERY]: redactQuery(url.slice(mark + 1)) };
}

function metricExporter(env = process.env): PushMetricExporter {
  const protocol = (env.OTEL_EXPORTER_OTLP_METRICS_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL || 'http/protobuf').trim();
  if (protocol === 'http/json') return new OTLPJsonMetricExporter();
  if (protocol === 'grpc') return new OTLPGrpcMetricExporter();
  return new OTLPProtoMetricExporter();
}

/**
 * Starts the OpenTelemetry SDK: traces as the OTEL_* variables say (exporter,
 * protocol, sampler, batch delay), the maintained instrumentations of http,
 * Fastify, pg and pino, and the services' Prometheus series over OTLP.
 * Kafka spans are written by @chat/kafka (see docs/observability.md for why).
 */
export function startTelemetry(settings: TelemetrySettings): void {
  const identity = serviceIdentity();
  const bridge = new PrometheusBridge();
  const exportIntervalMillis = Number(process.env.OTEL_METRIC_EXPORT_INTERVAL) || 60_000;
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: identity.name,
      [ATTR_SERVICE_VERSION]: identity.version,
      'service.instance.id': identity.instanceId,
    }),
    // Traces stay as OTEL_TRACES_EXPORTER says; none at all when only metrics are on.
    ...(settings.traces ? {} : { spanProcessors: [] }),
    metricReaders: settings.metrics
      ? [new PeriodicExportingMetricReader({ exporter: metricExporter(), exportIntervalMillis, metricProducers: [bridge] })]
      : [],
    // Logs stay JSON lines on stdout, now with trace_id and span_id; nothing is sent over OTLP.
    logRecordProcessors: [],
    instrumentations: settings.traces
      ? [
          new HttpInstrumentation({
            ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.test(request.url ?? ''),
            // Room ids, tickets, tokens and cursors travel in paths and query strings: none of them into a span.
            startIncomingSpanHook: (request) => redactedUrlAttributes(request.url ?? ''),
            redactedQueryParamsServer: [],
          }),
          new FastifyOtelInstrumentation({
            registerOnInitialization: true,
            instrumentHooks: false,
            ignorePaths: (route) => UNTRACED_PATHS.test(route.url),
            requestHook: (span, request) => span.setAttribute(ATTR_URL_PATH, redactUrl(request.url)),
          }),
          // Queries outside any trace (presence fan-out, ticket sweeps) would each start a trace of their own.
          new PgInstrumentation({ requireParentSpan: true }),
          new PinoInstrumentation({ disableLogSending: true }),
        ]
      : [],
  });
  sdk.start();
  setTelemetryHandle({ shutdown: () => sdk.shutdown(), bridge });
}
