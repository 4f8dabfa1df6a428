/**
 * Whether this process exports telemetry, read from the standard OTEL_* variables.
 * With no endpoint the SDK is not started at all: no instrumentation patches, no
 * exporter retrying against a collector that is not there, and every span the
 * code asks for is the API's no-op.
 */
export interface TelemetrySettings {
  traces: boolean;
  metrics: boolean;
}

type Env = Record<string, string | undefined>;

const set = (value: string | undefined) => value !== undefined && value.trim() !== '';
const exporters = (value: string | undefined) => (value ?? '').split(',').map((name) => name.trim()).filter(Boolean);

export function telemetrySettings(env: Env = process.env): TelemetrySettings {
  if (['true', '1'].includes((env.OTEL_SDK_DISABLED ?? '').toLowerCase())) return { traces: false, metrics: false };
  const endpoint = set(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const traceExporters = exporters(env.OTEL_TRACES_EXPORTER);
  const metricExporters = exporters(env.OTEL_METRICS_EXPORTER);
  // Exporters other than OTLP (console, zipkin) need no OTLP endpoint.
  const traces =
    !traceExporters.includes('none') &&
    (endpoint || set(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) || traceExporters.some((name) => name !== 'otlp'));
  const metrics =
    !metricExporters.includes('none') && (metricExporters.length === 0 || metricExporters.includes('otlp')) &&
    (endpoint || set(env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT));
  return { traces, metrics };
}
