import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Logger } from 'pino';
import { Ajv } from 'ajv';
import { exportRegistryOverOtlp } from '@chat/telemetry';
import { registerErrorMapper } from './errors';

/** A readiness check with its details, for /readyz's body. */
export interface Readiness {
  /** `degraded`: ready (200), with something it serves impaired; `not_ready`: 503. */
  status: 'ready' | 'degraded' | 'not_ready';
  /** Each check and what it found, e.g. `{ database: 'ok', events: 'reconnecting' }`. */
  checks: Record<string, string | boolean>;
}

export interface ServiceAppOptions {
  logger: Logger;
  /** Readiness: false while starting and while draining; or a check that says more (`Readiness`). */
  isReady: () => boolean | Promise<Readiness>;
  bodyLimit?: number;
  /** The service's own registry when its metrics exist before the app; default metrics are added to it. */
  metrics?: Registry;
  fastify?: Partial<FastifyServerOptions>;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Registry;
  }
}

/**
 * The HTTP shell every service shares: structured logs, the contract's error
 * JSON, strict schema validation, slowloris limits, and /healthz, /readyz,
 * /metrics.
 */
export function createServiceApp(options: ServiceAppOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger,
    // Per-request lines would drown the service's own records; errors are logged where they are handled.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? 64 * 1024,
    // Against slowloris: a request must arrive whole, headers first, within these.
    requestTimeout: 30_000,
    connectionTimeout: 0,
    keepAliveTimeout: 72_000,
    http: { headersTimeout: 15_000 },
    return503OnClosing: true,
    ...options.fastify,
  });
  const metrics = options.metrics ?? new Registry();
  collectDefaultMetrics({ register: metrics });
  exportRegistryOverOtlp(metrics);
  app.decorate('metrics', metrics);
  registerErrorMapper(app);
  useStrictValidation(app);

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const readiness = await options.isReady();
    if (typeof readiness !== 'boolean') return reply.status(readiness.status === 'not_ready' ? 503 : 200).send(readiness);
    if (!readiness) return reply.status(503).send({ status: 'not_ready' });
    return { status: 'ready' };
  });
  app.get('/metrics', async (_request, reply) => {
    reply.header('Content-Type', metrics.contentType);
    return metrics.metrics();
  });
  return app;
}

/**
 * Unknown fields are an error rather than silently dropped, and bodies are
 * never coerced ("text": 5 is invalid, not "5"). Query strings and path
 * parameters arrive as strings, so only they are coerced to the schema's types.
 */
function useStrictValidation(app: FastifyInstance): void {
  const base = { removeAdditional: false, useDefaults: false, allErrors: false, strict: true } as const;
  const forBodies = new Ajv({ ...base, coerceTypes: false });
  const forStrings = new Ajv({ ...base, coerceTypes: 'array' });
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? forBodies : forStrings).compile(schema),
  );
}
