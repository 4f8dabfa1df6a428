import { test } from 'node:test';
import assert from 'node:assert/strict';
import { telemetrySettings } from './settings';

test('without an endpoint nothing is exported, so the SDK is not started', () => {
  assert.deepEqual(telemetrySettings({}), { traces: false, metrics: false });
  assert.deepEqual(telemetrySettings({ OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_on' }), { traces: false, metrics: false });
});

test('an OTLP endpoint turns on traces and metrics, each of which can be turned off', () => {
  const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };
  assert.deepEqual(telemetrySettings(endpoint), { traces: true, metrics: true });
  assert.deepEqual(telemetrySettings({ ...endpoint, OTEL_METRICS_EXPORTER: 'none' }), { traces: true, metrics: false });
  assert.deepEqual(telemetrySettings({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' }), { traces: false, metrics: true });
  assert.deepEqual(telemetrySettings({ ...endpoint, OTEL_SDK_DISABLED: 'true' }), { traces: false, metrics: false });
});

test('signal-specific endpoints and non-OTLP trace exporters count too', () => {
  assert.deepEqual(telemetrySettings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }), { traces: true, metrics: false });
  assert.deepEqual(telemetrySettings({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://c:4318/v1/metrics' }), { traces: false, metrics: true });
  assert.deepEqual(telemetrySettings({ OTEL_TRACES_EXPORTER: 'console' }), { traces: true, metrics: false });
});
