export { exportRegistryOverOtlp, shutdownTelemetry } from './handle';
export { inSpan, tracer } from './spans';
export { telemetrySettings, type TelemetrySettings } from './settings';
