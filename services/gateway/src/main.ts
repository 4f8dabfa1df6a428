import { createPool } from '@chat/db';
import { createKafka, EXIT_FOR_RESTART, kafkaConnection, topicNames } from '@chat/kafka';
import { armFailpoints, createLogger, installProcessPolicy, onShutdownSignal } from '@chat/runtime';
import { buildGatewayApp } from './app';
import { Authenticator } from './auth/authenticate';
import { PgTicketStore } from './db/ticket-store';
import { TokenService } from './auth/tokens';
import { loadGatewayConfig } from './config';
import type { GatewayContext } from './context';
import { PgRoomStore } from './db/room-store';
import { FeedRouter } from './feed-router';
import { EventFeed } from './kafka/event-feed';
import { GatewayProducer } from './kafka/gateway-producer';
import { ConnectionRegistry } from './session/connections';
import { Hub } from './session/hub';
import { MessageSender } from './session/message-sender';
import { MembershipCache } from './session/membership-cache';
import { SendRateLimiter } from './session/send-rate';
import { RequestLimits } from './session/request-limits';
import { SignOuts } from './session/sign-outs';
import { PgSignOutStore } from './db/sign-out-store';
import { TailCheck } from './session/tail-check';
import { TypingNotifier } from './session/typing';
import { PresenceReporter } from './presence/reporter';
import { PresenceView } from './kafka/presence-view';
import { GatewayMetrics } from './metrics';
import { Registry } from 'prom-client';

const logger = createLogger('gateway');
const config = loadGatewayConfig();
armFailpoints('gateway', logger);
if (config.usingDevSecret) logger.warn('JWT_SECRET is not set: using the development secret; never do this in production');

const pool = createPool(config.databaseUrl, logger, config.pool);
const kafka = createKafka({ ...kafkaConnection(config), clientId: `gateway-${config.instanceId}` }, logger);
const store = new PgRoomStore(pool);
const tokens = new TokenService(
  config.jwtAlgorithm === 'HS256'
    ? {
        algorithm: 'HS256',
        secret: config.jwtSecret,
        previousSecret: config.jwtPreviousSecret || undefined,
        issuer: config.jwtIssuer,
        audience: config.jwtAudience || undefined,
        ttlSeconds: config.tokenTtlSeconds,
        clockToleranceSeconds: config.jwtClockToleranceSeconds,
        maxLifetimeSeconds: config.jwtMaxLifetimeSeconds,
      }
    : {
        algorithm: 'RS256',
        publicKeyPem: config.jwtPublicKey || undefined,
        jwksUrl: config.jwtJwksUrl || undefined,
        issuer: config.jwtIssuer,
        audience: config.jwtAudience || undefined,
        ttlSeconds: config.tokenTtlSeconds,
        clockToleranceSeconds: config.jwtClockToleranceSeconds,
        maxLifetimeSeconds: config.jwtMaxLifetimeSeconds,
      },
);
const tickets = new PgTicketStore(pool);
const registry = new Registry();
installProcessPolicy(logger, registry);
const producer = new GatewayProducer(
  kafka,
  topicNames(config.topicPrefix),
  { sendTimeoutMs: config.kafkaSendTimeoutMs, maxQueuedRecords: config.kafkaQueueMaxRecords, maxQueuedBytes: config.kafkaQueueMaxBytes },
  registry,
);
const hub = new Hub();
const memberCache = new MembershipCache(store);
const router = new FeedRouter({
  hub,
  memberCache,
  store,
  presence: { onlineUser: (userId) => presence.onlineUser(userId) },
  observeDelivery: (sentAt) => metrics.observeDelivery(sentAt),
  logger,
  // Made below, before the feed starts.
  signOuts: { record: (signOut) => signOuts.record(signOut) },
});
/**
 * A consumer kafkajs will not restart leaves this replica deaf to the feed for good: its streams are drained as on
 * SIGTERM (told to reconnect elsewhere, spread over the window), then the process exits for its supervisor to
 * restart, within the shutdown's time limit.
 */
const onFatalConsumerCrash = (error: Error) => shutdown.begin(`a Kafka consumer crashed for good: ${error.message}`, EXIT_FOR_RESTART);
const feed = new EventFeed(
  kafka,
  topicNames(config.topicPrefix).events,
  config.instanceId,
  (record) => router.route(record),
  logger,
  registry,
  onFatalConsumerCrash,
);
const sendRate = new SendRateLimiter(config.sendRatePerSecond, config.sendBurst);
const limits = new RequestLimits({
  userRatePerSecond: config.httpUserRatePerSecond,
  userBurst: config.httpUserBurst,
  createRatePerSecond: config.httpCreateRatePerSecond,
  createBurst: config.httpCreateBurst,
  loginRatePerSecond: config.loginRatePerSecond,
  loginBurst: config.loginBurst,
  streamOpenRatePerSecond: config.streamOpenRatePerSecond,
  streamOpenBurst: config.streamOpenBurst,
});
const reporter = new PresenceReporter(producer, {
  gateway: config.instanceId,
  heartbeatMs: config.presenceHeartbeatMs,
  ttlMs: config.presenceTtlMs,
  pollGraceMs: config.presencePollGraceMs,
});
const presence = new PresenceView(
  kafka,
  topicNames(config.topicPrefix).presence,
  config.instanceId,
  (record) => router.presenceChanged(record),
  logger,
  registry,
  onFatalConsumerCrash,
);
const typing = new TypingNotifier(memberCache, producer);
const tailCheck = new TailCheck({ hub, store, logger, intervalMs: config.tailCheckIntervalMs });
const sweep = setInterval(() => {
  sendRate.sweep();
  limits.sweep();
  typing.sweep();
  memberCache.sweep();
}, 60_000);
sweep.unref();

const connections = new ConnectionRegistry(
  { perUser: config.maxStreamsPerUser, perIp: config.maxStreamsPerIp },
  {
    connected: (user, transport) => {
      reporter.connected(user);
      metrics.connects.inc({ transport });
    },
    disconnected: (userId, transport) => {
      reporter.disconnected(userId, transport);
      metrics.disconnects.inc({ transport });
    },
  },
);
const metrics = new GatewayMetrics(registry, connections);
const signOutStore = new PgSignOutStore(pool);
const signOuts = new SignOuts(signOutStore, (userId, at) => connections.signedOut(userId, at), config.jwtMaxLifetimeSeconds);
// Sign-outs reach this gateway on the feed at once; Postgres is read every SIGN_OUT_POLL_MS for a record lost on the way.
const signOutPoll = setInterval(() => {
  signOuts.poll().catch((error: unknown) => logger.warn({ err: error }, 'could not read the recent sign-outs; trying again'));
}, config.signOutPollMs);
signOutPoll.unref();

let accepting = true;
const ctx: GatewayContext = {
  config,
  logger,
  store,
  tokens,
  tickets,
  auth: new Authenticator(tokens, tickets, store, signOuts),
  sender: new MessageSender(store, memberCache, producer, logger, sendRate, (kind) => metrics.messagesIn.inc({ kind })),
  memberships: producer,
  memberCache,
  typing,
  hub,
  connections,
  presence,
  sessionDeps: {
    hub,
    store,
    logger,
    onDelivered: () => metrics.countDelivery(),
    onMembershipRead: (entry) => router.membershipRead(entry),
  },
  metrics,
  limits,
  signOut: async (userId) => {
    const signOut = { userId, at: await signOutStore.signOut(userId) };
    signOuts.record(signOut);
    producer.signedOut(signOut).catch((error: unknown) => logger.warn({ err: error }, 'a sign-out was not published; other gateways read it from Postgres'));
  },
  isAccepting: () => accepting,
};
const app = await buildGatewayApp(
  ctx,
  {
    accepting: () => accepting,
    pingDatabase: () => pool.query('SELECT 1'),
    databaseTimeoutMs: config.readinessDatabaseTimeoutMs,
    feeds: { events: feed, presence },
  },
  registry,
);

const shutdown = onShutdownSignal(
  logger,
  async () => {
    // Not ready, no new streams; open ones reconnect elsewhere, spread over the window; then close.
    accepting = false;
    await ctx.connections.drain(config.drainWindowMs);
    tailCheck.stop();
    clearInterval(signOutPoll);
    reporter.stop();
    await app.close();
    await Promise.all([feed.stop(), presence.stop()]);
    await producer.disconnect();
    await pool.end();
  },
  { timeoutMs: config.drainWindowMs + 30_000 },
);

await producer.connect();
// Every sign-out within a token's longest life, before a token is accepted: Postgres that does not answer is waited
// for (a minute at most, then the process ends and is restarted).
for (let attempt = 1; ; attempt++) {
  try {
    await signOuts.poll();
    break;
  } catch (error) {
    if (attempt >= 60) throw error;
    logger.warn({ err: error, attempt }, 'could not read the recent sign-outs; trying again');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}
await Promise.all([feed.start(), presence.start()]);
if (config.tailCheckIntervalMs > 0) tailCheck.start();
await app.listen({ host: config.host, port: config.port });
