export { exportRegistryOverOtlp, shutdownTelemetry } from './handle';
export { inSpan, tracer } from './spans';
