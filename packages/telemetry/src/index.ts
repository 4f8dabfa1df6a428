export { exportRegistryOverOtlp, shutdownTelemetry } from './handle';
export { inSpan, tracer } from './spans';
export { redactQuery, redactUrl, roomRef } from './redact';
