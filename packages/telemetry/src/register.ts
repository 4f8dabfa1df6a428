/**
 * The telemetry bootstrap. Every service is started with it ahead of its own code:
 *   node --import tsx --import @chat/telemetry/register services/<name>/src/main.ts
 * so the SDK and the ESM loader hook are in place before fastify, pg or pino are
 * imported. Without an OTLP endpoint (or another exporter) it does nothing.
 */
import { register } from 'node:module';
import { createAddHookMessageChannel } from 'import-in-the-middle';
import { telemetrySettings } from './settings';

const settings = telemetrySettings();
if (settings.traces) {
  // The hook wraps only the modules an instrumentation asks for (http, fastify, pg, pino), not every import.
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);
  const { startTelemetry } = await import('./sdk');
  startTelemetry(settings);
  await waitForAllMessagesAcknowledged();
} else if (settings.metrics) {
  const { startTelemetry } = await import('./sdk');
  startTelemetry(settings);
}
