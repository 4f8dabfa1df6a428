import { createLogger, createServiceApp, int, onShutdownSignal, readConfig, str } from '@chat/runtime';

// The service shell: health, readiness and metrics. Heartbeat tracking comes with the presence issue.
const logger = createLogger('presence');
const config = readConfig({ host: str('HOST', '127.0.0.1'), port: int('PORT', 8082, { min: 0, max: 65535 }) });
let draining = false;
const app = createServiceApp({ logger, isReady: () => !draining });

onShutdownSignal(logger, async () => {
  draining = true;
  await app.close();
});

await app.listen({ host: config.host, port: config.port });
