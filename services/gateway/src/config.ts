import { poolSettings } from '@chat/db';
import { kafkaConnectionConfigSpec } from '@chat/kafka';
import { bool, ConfigError, int, list, oneOf, readConfig, str } from '@chat/runtime';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';

const DEV_SECRET = 'dev-only-secret-change-me-0123456789abcdef';
/** RFC 7518 §3.2: an HS256 key of at least 256 bits. */
const MIN_SECRET_LENGTH = 32;

/** Whether `host` is a loopback address (or `localhost`): reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare) || /^::ffff:127(\.\d{1,3}){3}$/.test(bare);
}

export const gatewayConfigSpec = {
  host: str('HOST', '127.0.0.1', { doc: 'The address its HTTP server listens on.' }),
  port: int('PORT', 8080, { min: 0, max: 65535, doc: 'The port of the API, the streams, the web app, `/healthz`, `/readyz` and `/metrics`.' }),
  databaseUrl: str('DATABASE_URL', 'postgres://postgres@127.0.0.1:5433/chat', { doc: 'The Postgres database of rooms, members and messages.' }),
  // Every query is one statement of a request (REST, a stream's resume and catch-up); none holds a transaction open.
  databasePoolMax: int('DATABASE_POOL_MAX', 20, { min: 1, doc: 'Postgres connections at most; a query waits for a free one up to 5 s.' }),
  databaseStatementTimeoutMs: int('DATABASE_STATEMENT_TIMEOUT_MS', 10_000, {
    min: 0,
    doc: "Postgres cancels a statement that runs longer, lock waits included (0: never): the request fails instead of holding a connection. Far above its queries (lookups by key, pages of history, catch-ups of a few rooms), below the API route's 30 s.",
  }),
  databaseLockTimeoutMs: int('DATABASE_LOCK_TIMEOUT_MS', 2_000, {
    min: 0,
    doc: 'Postgres cancels a statement that waits longer for a row lock (0: never). Its rows (a read position, a membership) are held for milliseconds by the statements of other requests.',
  }),
  databaseIdleInTransactionTimeoutMs: int('DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS', 5_000, {
    min: 0,
    doc: 'Postgres ends a session idle this long inside a transaction (0: never); the gateway opens none, so this only guards against one left open.',
  }),
  databaseQueryTimeoutMs: int('DATABASE_QUERY_TIMEOUT_MS', 15_000, {
    min: 0,
    doc: 'A query Postgres has not answered after this long fails and its connection is dropped (0: never): the backstop for a server that does not answer at all; above `DATABASE_STATEMENT_TIMEOUT_MS`.',
  }),
  ...kafkaConnectionConfigSpec,
  kafkaSendTimeoutMs: int('KAFKA_SEND_TIMEOUT_MS', 5_000, {
    min: 100,
    doc: 'A send (or edit, delete, join) Kafka has not acknowledged within this long is answered `unavailable` with a `retryAfterMs` hint; the client retries with the same `clientMsgId`, which dedupes if the first one landed.',
  }),
  kafkaQueueMaxRecords: int('KAFKA_QUEUE_MAX_RECORDS', 20_000, {
    min: 1,
    doc: 'Sends waiting for Kafka on this replica at most; past it a send is answered `unavailable` at once. With `KAFKA_QUEUE_MAX_BYTES`, what bounds the memory an outage costs.',
  }),
  kafkaQueueMaxBytes: int('KAFKA_QUEUE_MAX_BYTES', 32 * 1024 * 1024, { min: 1024, doc: 'Bytes of sends waiting for Kafka on this replica at most, likewise.' }),
  topicPrefix: str('KAFKA_TOPIC_PREFIX', '', { doc: 'Prepended to every topic name (tests give each run its own topics).' }),
  instanceId: str('INSTANCE_ID', `${hostname()}-${process.pid}`, {
    doc: 'Names this replica: its Kafka client id, its own consumer groups and its presence reports; unique per replica.',
    shownDefault: '`<hostname>-<pid>`',
  }),
  jwtAlgorithm: oneOf('JWT_ALGORITHM', ['HS256', 'RS256'] as const, 'HS256', {
    doc: "`HS256`: a shared secret (the development login issues such tokens). `RS256`: an identity provider's key.",
  }),
  jwtSecret: str('JWT_SECRET', DEV_SECRET, {
    doc: `The HS256 secret, at least ${MIN_SECRET_LENGTH} characters (\`openssl rand -base64 48\`). The default is a public development secret, refused unless \`HOST\` is a loopback address.`,
    shownDefault: 'a development secret (loopback only)',
  }),
  jwtPreviousSecret: str('JWT_PREVIOUS_SECRET', '', {
    doc: 'HS256 rotation: tokens signed with this secret are still accepted (the development login signs with `JWT_SECRET` only). Set the old secret here and the new one in `JWT_SECRET`, then clear this once the old tokens have expired (`TOKEN_TTL_SECONDS`).',
  }),
  jwtPublicKey: str('JWT_PUBLIC_KEY', '', { doc: "RS256: the identity provider's public key (PEM)." }),
  jwtJwksUrl: str('JWT_JWKS_URL', '', { doc: "RS256: the identity provider's JWKS URL (https; http only to a loopback address), instead of `JWT_PUBLIC_KEY`." }),
  jwtIssuer: str('JWT_ISSUER', 'chat-dev', { doc: 'The `iss` a token must carry (and the development login writes).' }),
  jwtAudience: str('JWT_AUDIENCE', '', {
    doc: 'The `aud` a token must carry (and the development login writes). Required with RS256 (else a token the identity provider issued for any other application would do); with HS256, empty checks none.',
  }),
  jwtClockToleranceSeconds: int('JWT_CLOCK_TOLERANCE_SECONDS', 30, {
    min: 0,
    max: 300,
    doc: "How far a token's `exp`, `nbf` and `iat` may be off this gateway's clock: a gateway whose clock runs ahead logs nobody out early. Its streams end this long after `exp`.",
  }),
  tokenTtlSeconds: int('TOKEN_TTL_SECONDS', 3600, { min: 1, doc: 'How long a token of the development login holds.' }),
  jwtMaxLifetimeSeconds: int('JWT_MAX_LIFETIME_SECONDS', 86_400, {
    min: 60,
    max: 30 * 86_400,
    doc: "A token that would live longer (`exp` − `iat`) is refused, and one without `iat` too: each gateway remembers sign-outs this long, so that a token issued before one stays void until it expires. At least `TOKEN_TTL_SECONDS`.",
  }),
  signOutPollMs: int('SIGN_OUT_POLL_MS', 10_000, {
    min: 100,
    doc: "How often the gateway reads the recent sign-outs from Postgres; they reach it on the event feed at once, so this bounds how long a sign-out whose record was lost leaves a token of the user's working here.",
  }),
  devLogin: bool('DEV_LOGIN', true, {
    doc: '`POST /api/login` by username alone (HS256 only): anyone becomes anyone. Refused unless `HOST` is a loopback address (`npm start`) or `DEV_LOGIN_ON_NETWORK` is set; the images turn it off.',
  }),
  devLoginOnNetwork: bool('DEV_LOGIN_ON_NETWORK', false, {
    doc: "Lets `DEV_LOGIN` serve a non-loopback `HOST`: a throwaway trial's only (the chart's `gateway.auth.devLogin`). Never the development secret: `JWT_SECRET` must be set.",
  }),
  allowedOrigins: list('ALLOWED_ORIGINS', [], { doc: 'Origins allowed to open WebSockets; empty means same-origin only.' }),
  webRoot: str('WEB_ROOT', fileURLToPath(new URL('../../../web/dist/', import.meta.url)), {
    doc: 'The built web app (`npm run build -w web`; `npm start` builds it when missing or stale).',
    shownDefault: '`web/dist/` of this checkout',
  }),
  maxBufferedBytes: int('WS_MAX_BUFFERED_BYTES', 1024 * 1024, {
    min: 1024,
    doc: 'A client whose unsent backlog passes this many bytes is cut off (it resumes from its cursor).',
  }),
  wsFrameRatePerSecond: int('WS_FRAME_RATE_PER_SECOND', 50, {
    min: 1,
    doc: 'Frames of any kind a WebSocket connection may send per second, once its burst is spent; past it each is answered `rate_limited` with `retryAfterMs` and not handled, and 20 such in a row close the connection (4029). Per connection.',
  }),
  wsFrameBurst: int('WS_FRAME_BURST', 100, { min: 1, doc: 'Frames a WebSocket connection may send at once.' }),
  pingIntervalMs: int('WS_PING_INTERVAL_MS', 25_000, { min: 100, doc: 'WebSocket pings; a socket silent for two intervals is dropped.' }),
  sseHeartbeatMs: int('SSE_HEARTBEAT_MS', 15_000, {
    min: 100,
    max: 15_000,
    doc: 'SSE comment lines keep proxies from closing idle streams; the contract asks for at most 15 s.',
  }),
  sseRetryMs: int('SSE_RETRY_MS', 1_000, { min: 0, doc: 'The `retry:` hint: how long an EventSource waits before reconnecting.' }),
  maxStreamsPerUser: int('MAX_STREAMS_PER_USER', 50, { min: 1, doc: 'Open streams one user may hold on this replica.' }),
  maxStreamsPerIp: int('MAX_STREAMS_PER_IP', 20_000, { min: 1, doc: 'Open streams one client address may hold on this replica.' }),
  // Parsed by http/trusted-proxies.ts.
  trustedProxies: list('TRUSTED_PROXIES', ['loopback'], {
    doc: 'Proxies whose `X-Forwarded-For` is believed: addresses, CIDRs, `loopback` (the local nginx) or `none`.',
  }),
  sendRatePerSecond: int('SEND_RATE_PER_SECOND', 20, { min: 1, doc: 'Messages a user may send per second on this replica, once the burst is spent.' }),
  sendBurst: int('SEND_BURST', 50, { min: 1, doc: 'Messages a user may send at once on this replica.' }),
  httpUserRatePerSecond: int('HTTP_USER_RATE_PER_SECOND', 50, {
    min: 1,
    doc: 'API calls a user may make per second on this replica, once the burst is spent (sends, edits and deletes have `SEND_RATE_PER_SECOND`); past it `429 rate_limited` with `Retry-After`.',
  }),
  httpUserBurst: int('HTTP_USER_BURST', 200, { min: 1, doc: 'API calls a user may make at once on this replica.' }),
  httpCreateRatePerSecond: int('HTTP_CREATE_RATE_PER_SECOND', 2, {
    min: 1,
    doc: 'Rooms a user may create or join, and direct conversations open, per second on this replica once the burst is spent.',
  }),
  httpCreateBurst: int('HTTP_CREATE_BURST', 30, { min: 1, doc: 'Rooms a user may create or join at once on this replica.' }),
  loginRatePerSecond: int('LOGIN_RATE_PER_SECOND', 10, { min: 1, doc: '`POST /api/login` per client address per second on this replica, once the burst is spent.' }),
  loginBurst: int('LOGIN_BURST', 100, { min: 1, doc: '`POST /api/login` per client address at once on this replica.' }),
  streamOpenRatePerSecond: int('STREAM_OPEN_RATE_PER_SECOND', 2, {
    min: 1,
    doc: 'WebSocket and SSE streams a user may open per second on this replica once the burst is spent (a long poll, which opens once per answer, counts as an API call); past it `429` before the upgrade. The SDK reconnects with a backoff from 1 s.',
  }),
  streamOpenBurst: int('STREAM_OPEN_BURST', 20, { min: 1, doc: 'WebSocket and SSE streams a user may open at once on this replica.' }),
  presenceHeartbeatMs: int('PRESENCE_HEARTBEAT_MS', 30_000, {
    min: 50,
    doc: "How often this gateway reports its users' connection counts to the presence service.",
  }),
  presenceTtlMs: int('PRESENCE_TTL_MS', 60_000, {
    min: 100,
    doc: "A report holds this long: a gateway that dies takes its users offline after it. The same as presence's.",
  }),
  presencePollGraceMs: int('PRESENCE_POLL_GRACE_MS', 35_000, {
    min: 0,
    doc: 'A long poller is away between polls: it counts as connected this long after each answer (longest poll + margin).',
  }),
  tailCheckIntervalMs: int('TAIL_CHECK_INTERVAL_MS', 5_000, {
    min: 0,
    doc: "How often the rooms with streams here are checked for a last entry the event feed never brought (a quiet room's lost record), which their streams then read from Postgres (0: never). One query of the rooms' last seqs per interval for the whole gateway.",
  }),
  readinessDatabaseTimeoutMs: int('READINESS_DATABASE_TIMEOUT_MS', 1_000, {
    min: 10,
    max: 2_500,
    doc: "`/readyz` is `503` when Postgres does not answer `SELECT 1` within this long; below the chart's 3 s probe timeout. Kafka's feeds count only until they first joined: a feed down later is reported in the body (`degraded`), still `200`.",
  }),
  drainWindowMs: int('DRAIN_WINDOW_MS', 10_000, { min: 0, doc: 'On SIGTERM, open streams are told to reconnect at random moments over this window.' }),
};

export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;
type RawGatewayConfig = Omit<GatewayConfig, 'pool' | 'usingDevSecret'>;

export function loadGatewayConfig(env: Record<string, string | undefined> = process.env) {
  const config = readConfig(gatewayConfigSpec, env);
  const problems = insecureSettings(config);
  if (config.tokenTtlSeconds > config.jwtMaxLifetimeSeconds) {
    problems.push(`TOKEN_TTL_SECONDS (${config.tokenTtlSeconds}) is above JWT_MAX_LIFETIME_SECONDS (${config.jwtMaxLifetimeSeconds}): the development login's tokens would be refused`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const pool = poolSettings({
    max: config.databasePoolMax,
    statementTimeoutMs: config.databaseStatementTimeoutMs,
    lockTimeoutMs: config.databaseLockTimeoutMs,
    idleInTransactionTimeoutMs: config.databaseIdleInTransactionTimeoutMs,
    queryTimeoutMs: config.databaseQueryTimeoutMs,
  });
  return { ...config, pool, usingDevSecret: config.jwtAlgorithm === 'HS256' && config.jwtSecret === DEV_SECRET };
}

/**
 * What would make this gateway unsafe where it listens: the development login and secret off loopback, RS256 without
 * an audience or with a JWKS fetched in the clear, a short HS256 secret. Each says why, and what to set instead.
 */
function insecureSettings(config: RawGatewayConfig): string[] {
  const problems: string[] = [];
  const loopback = isLoopbackHost(config.host);
  if (config.jwtAlgorithm === 'HS256') {
    if (config.jwtSecret === DEV_SECRET && !loopback) {
      problems.push(
        `JWT_SECRET is not set, and its default is a public development secret (anyone could sign tokens): it works only with a loopback HOST, and HOST is ${config.host}. Set JWT_SECRET to ${MIN_SECRET_LENGTH} or more random characters (openssl rand -base64 48).`,
      );
    }
    for (const [name, secret] of [['JWT_SECRET', config.jwtSecret], ['JWT_PREVIOUS_SECRET', config.jwtPreviousSecret]] as const) {
      if (secret !== '' && secret.length < MIN_SECRET_LENGTH) problems.push(`${name} must be at least ${MIN_SECRET_LENGTH} characters (an HS256 key of 256 bits), got ${secret.length}`);
    }
  } else {
    if (!config.jwtPublicKey && !config.jwtJwksUrl) problems.push('JWT_ALGORITHM=RS256 needs JWT_PUBLIC_KEY (PEM) or JWT_JWKS_URL');
    if (!config.jwtAudience) {
      problems.push("JWT_ALGORITHM=RS256 needs JWT_AUDIENCE (this application's client id at the identity provider): without it, a token it issued for any other application would be accepted here");
    }
    if (config.jwtJwksUrl && !secureJwksUrl(config.jwtJwksUrl)) {
      problems.push(`JWT_JWKS_URL must be an https URL (http only to a loopback address): the keys that verify every token must not travel in the clear, got ${config.jwtJwksUrl}`);
    }
  }
  // With RS256 the development login is off whatever DEV_LOGIN says: the gateway cannot sign those tokens.
  if (config.devLogin && config.jwtAlgorithm === 'HS256' && !loopback && !config.devLoginOnNetwork) {
    problems.push(
      `DEV_LOGIN=true lets anyone sign in as any user by name: it works only with a loopback HOST, and HOST is ${config.host}. Set DEV_LOGIN=false and sign users in through your identity provider (JWT_ALGORITHM=RS256), or DEV_LOGIN_ON_NETWORK=true for a throwaway trial.`,
    );
  }
  return problems;
}

function secureJwksUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return parsed.protocol === 'https:' || (parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname));
}
