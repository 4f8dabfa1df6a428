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
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { PrometheusBridge } from './prometheus-bridge';
import { serviceIdentity } from './service-identity';
import type { TelemetrySettings } from './settings';
import { setTelemetryHandle } from './handle';

/** Paths that are polled, not used: spans for them would drown the traces that matter. */
const UNTRACED_PATHS = /^\/(healthz|readyz|metrics)(\?|$)/;

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
          new HttpInstrumentation({ ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.test(request.url ?? '') }),
          new FastifyOtelInstrumentation({
            registerOnInitialization: true,
            instrumentHooks: false,
            ignorePaths: (route) => UNTRACED_PATHS.test(route.url),
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
