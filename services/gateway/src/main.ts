import { createPool } from '@chat/db';
import { createKafka, kafkaConnection, topicNames, type PresenceRecord } from '@chat/kafka';
import type { UserRef } from '@chat/protocol';
import { createLogger, installProcessPolicy, onShutdownSignal } from '@chat/runtime';
import { buildGatewayApp } from './app';
import { Authenticator } from './auth/authenticate';
import { TicketStore } from './auth/tickets';
import { TokenService } from './auth/tokens';
import { loadGatewayConfig } from './config';
import type { GatewayContext } from './context';
import { PgRoomStore } from './db/room-store';
import { EventFeed } from './kafka/event-feed';
import { GatewayProducer } from './kafka/gateway-producer';
import { ConnectionRegistry } from './session/connections';
import { Hub } from './session/hub';
import { MessageSender } from './session/message-sender';
import { MembershipCache } from './session/membership-cache';
import { SendRateLimiter } from './session/send-rate';
import { TypingNotifier } from './session/typing';
import { PresenceReporter } from './presence/reporter';
import { PresenceView } from './presence/view';
import { GatewayMetrics } from './metrics';
import { Registry } from 'prom-client';

const logger = createLogger('gateway');
const config = loadGatewayConfig();
if (config.usingDevSecret) logger.warn('JWT_SECRET is not set: using the development secret; never do this in production');

const pool = createPool(config.databaseUrl, logger, 20);
const kafka = createKafka({ ...kafkaConnection(config), clientId: `gateway-${config.instanceId}` }, logger);
const store = new PgRoomStore(pool);
const tokens = new TokenService(
  config.jwtAlgorithm === 'HS256'
    ? { algorithm: 'HS256', secret: config.jwtSecret, issuer: config.jwtIssuer, audience: config.jwtAudience || undefined, ttlSeconds: config.tokenTtlSeconds }
    : {
        algorithm: 'RS256',
        publicKeyPem: config.jwtPublicKey || undefined,
        jwksUrl: config.jwtJwksUrl || undefined,
        issuer: config.jwtIssuer,
        audience: config.jwtAudience || undefined,
        ttlSeconds: config.tokenTtlSeconds,
      },
);
const tickets = new TicketStore(pool);
const registry = new Registry();
installProcessPolicy(logger, registry);
const producer = new GatewayProducer(kafka, topicNames(config.topicPrefix), registry);
const hub = new Hub();
const memberCache = new MembershipCache(store);
const feed = new EventFeed(
  kafka,
  topicNames(config.topicPrefix).events,
  config.instanceId,
  (record) => {
    if (record.kind === 'entry') metrics.observeDelivery(record.sentAt);
    else if (record.kind === 'member_left') memberCache.forget(record.room, record.userId);
    const reached = hub.publish(record);
    if (record.kind === 'member_joined' || record.kind === 'member_left') {
      announceMembership(record.room, record.userId, record.kind === 'member_joined' ? 'online' : 'offline');
    }
    return reached;
  },
  logger,
  registry,
);
const sendRate = new SendRateLimiter(config.sendRatePerSecond, config.sendBurst);
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
  (record) => {
    // Postgres down or its pool saturated: this change is not shown here, and the next one of the user is.
    fanOutPresence(record).catch((error: unknown) => logger.warn({ err: error, user: record.user.id }, 'presence fan-out failed'));
  },
  logger,
  registry,
);

/** One presence event per room of the user that has streams here, serialised once per room. */
async function fanOutPresence(record: PresenceRecord): Promise<void> {
  // Reading the whole status table at start-up must not cost a query per user while nobody is connected.
  if (hub.roomCount === 0) return;
  const rooms = (await store.roomIdsOf(record.user.id)).filter((room) => hub.hasListeners(room));
  for (const room of rooms) broadcastPresence(room, record.user, record.status);
}

/**
 * Someone online who joins a room is news to its members (online there), and so is one who leaves it (offline
 * there), though no status changed and so no presence record says it.
 */
function announceMembership(room: string, userId: string, status: PresenceRecord['status']): void {
  const user = presence.onlineUser(userId);
  if (user && hub.hasListeners(room)) broadcastPresence(room, user, status);
}

function broadcastPresence(room: string, user: UserRef, status: PresenceRecord['status']): void {
  hub.broadcast({ type: 'presence', room, userId: user.id, json: JSON.stringify({ type: 'presence', room, user, status }) });
}
const typing = new TypingNotifier(memberCache, producer);
const sweep = setInterval(() => {
  sendRate.sweep();
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

let accepting = true;
const ctx: GatewayContext = {
  config,
  logger,
  store,
  tokens,
  tickets,
  auth: new Authenticator(tokens, tickets, store),
  sender: new MessageSender(store, memberCache, producer, logger, sendRate, (kind) => metrics.messagesIn.inc({ kind })),
  memberships: producer,
  memberCache,
  typing,
  hub,
  connections,
  presence,
  sessionDeps: { hub, store, logger, onDelivered: () => metrics.countDelivery() },
  metrics,
  isAccepting: () => accepting,
};
const app = await buildGatewayApp(ctx, () => accepting && feed.isReady && presence.isReady, registry);

onShutdownSignal(
  logger,
  async () => {
    // Not ready, no new streams; open ones reconnect elsewhere, spread over the window; then close.
    accepting = false;
    await ctx.connections.drain(config.drainWindowMs);
    reporter.stop();
    await app.close();
    await Promise.all([feed.stop(), presence.stop()]);
    await producer.disconnect();
    await pool.end();
  },
  { timeoutMs: config.drainWindowMs + 30_000 },
);

await producer.connect();
await Promise.all([feed.start(), presence.start()]);
await app.listen({ host: config.host, port: config.port });
