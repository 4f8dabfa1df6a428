import type { Registry } from 'prom-client';
import type { PrometheusBridge } from './prometheus-bridge';

interface TelemetryHandle {
  shutdown(): Promise<void>;
  bridge: PrometheusBridge;
}

// The bootstrap runs from --import and the service from its own entry: a global
// symbol reaches the one started SDK whichever module instance asks.
const HANDLE = Symbol.for('chat.telemetry');
type WithHandle = typeof globalThis & { [HANDLE]?: TelemetryHandle };

export function setTelemetryHandle(handle: TelemetryHandle): void {
  (globalThis as WithHandle)[HANDLE] = handle;
}

/** Exports this registry's series over OTLP too, when OTLP metrics are on; otherwise does nothing. */
export function exportRegistryOverOtlp(registry: Registry): void {
  (globalThis as WithHandle)[HANDLE]?.bridge.add(registry);
}

/** Flushes the spans and metrics not yet exported; call it last in a graceful shutdown. */
export async function shutdownTelemetry(): Promise<void> {
  await (globalThis as WithHandle)[HANDLE]?.shutdown();
}
