import { kafkaConnectionConfigSpec } from '@chat/kafka';
import { bool, ConfigError, int, list, oneOf, readConfig, str } from '@chat/runtime';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';

const DEV_SECRET = 'dev-only-secret-change-me-0123456789abcdef';

export const gatewayConfigSpec = {
  host: str('HOST', '127.0.0.1'),
  port: int('PORT', 8080, { min: 0, max: 65535 }),
  databaseUrl: str('DATABASE_URL', 'postgres://postgres@127.0.0.1:5433/chat'),
  ...kafkaConnectionConfigSpec,
  topicPrefix: str('KAFKA_TOPIC_PREFIX', ''),
  instanceId: str('INSTANCE_ID', `${hostname()}-${process.pid}`),
  /** HS256: a shared secret (the development login issues such tokens). RS256: an identity provider's key. */
  jwtAlgorithm: oneOf('JWT_ALGORITHM', ['HS256', 'RS256'] as const, 'HS256'),
  jwtSecret: str('JWT_SECRET', DEV_SECRET),
  jwtPublicKey: str('JWT_PUBLIC_KEY', ''),
  jwtJwksUrl: str('JWT_JWKS_URL', ''),
  jwtIssuer: str('JWT_ISSUER', 'chat-dev'),
  jwtAudience: str('JWT_AUDIENCE', ''),
  tokenTtlSeconds: int('TOKEN_TTL_SECONDS', 3600, { min: 1 }),
  /** `POST /api/login` by username alone: on for the local stack, off in a cluster. */
  devLogin: bool('DEV_LOGIN', true),
  /** Origins allowed to open WebSockets; empty means same-origin only. */
  allowedOrigins: list('ALLOWED_ORIGINS', []),
  /** The built web app (`npm run build -w web`; `npm start` builds it when missing or stale). */
  webRoot: str('WEB_ROOT', fileURLToPath(new URL('../../../web/dist/', import.meta.url))),
  /** A client whose unsent backlog passes this many bytes is cut off (it resumes from its cursor). */
  maxBufferedBytes: int('WS_MAX_BUFFERED_BYTES', 1024 * 1024, { min: 1024 }),
  pingIntervalMs: int('WS_PING_INTERVAL_MS', 25_000, { min: 100 }),
  /** SSE comment lines keep proxies from closing idle streams; the contract asks for at most 15 s. */
  sseHeartbeatMs: int('SSE_HEARTBEAT_MS', 15_000, { min: 100, max: 15_000 }),
  /** The `retry:` hint: how long an EventSource waits before reconnecting. */
  sseRetryMs: int('SSE_RETRY_MS', 1_000, { min: 0 }),
  maxStreamsPerUser: int('MAX_STREAMS_PER_USER', 50, { min: 1 }),
  maxStreamsPerIp: int('MAX_STREAMS_PER_IP', 20_000, { min: 1 }),
  /** Proxies whose X-Forwarded-For is believed (http/trusted-proxies.ts): the local nginx by default. */
  trustedProxies: list('TRUSTED_PROXIES', ['loopback']),
  sendRatePerSecond: int('SEND_RATE_PER_SECOND', 20, { min: 1 }),
  sendBurst: int('SEND_BURST', 50, { min: 1 }),
  /** How often this gateway reports its users' connection counts to the presence service. */
  presenceHeartbeatMs: int('PRESENCE_HEARTBEAT_MS', 30_000, { min: 50 }),
  /** A report holds this long: a gateway that dies takes its users offline after it. */
  presenceTtlMs: int('PRESENCE_TTL_MS', 60_000, { min: 100 }),
  /** A long poller is away between polls: it counts as connected this long after each answer (longest poll + margin). */
  presencePollGraceMs: int('PRESENCE_POLL_GRACE_MS', 35_000, { min: 0 }),
  /** On SIGTERM, open streams are told to reconnect at random moments over this window. */
  drainWindowMs: int('DRAIN_WINDOW_MS', 10_000, { min: 0 }),
};

export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;

export function loadGatewayConfig(env: Record<string, string | undefined> = process.env) {
  const config = readConfig(gatewayConfigSpec, env);
  if (config.jwtAlgorithm === 'RS256' && !config.jwtPublicKey && !config.jwtJwksUrl) {
    throw new ConfigError(['JWT_ALGORITHM=RS256 needs JWT_PUBLIC_KEY (PEM) or JWT_JWKS_URL']);
  }
  return { ...config, usingDevSecret: config.jwtAlgorithm === 'HS256' && config.jwtSecret === DEV_SECRET };
}
