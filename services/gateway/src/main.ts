import { createPool } from '@chat/db';
import { createKafka, topicNames } from '@chat/kafka';
import { createLogger, onShutdownSignal } from '@chat/runtime';
import { buildGatewayApp } from './app';
import { Authenticator } from './auth/authenticate';
import { TicketStore } from './auth/tickets';
import { TokenService } from './auth/tokens';
import { loadGatewayConfig } from './config';
import type { GatewayContext } from './context';
import { PgRoomStore } from './db/room-store';
import { KafkaCommandLog } from './kafka/command-log';
import { EventFeed } from './kafka/event-feed';
import { Hub } from './session/hub';
import { MessageSender } from './session/message-sender';

const logger = createLogger('gateway');
const config = loadGatewayConfig();
if (config.usingDevSecret) logger.warn('JWT_SECRET is not set: using the development secret; never do this in production');

const pool = createPool(config.databaseUrl, logger, 20);
const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: `gateway-${config.instanceId}` }, logger);
const topics = topicNames(config.topicPrefix);
const store = new PgRoomStore(pool);
const tokens = new TokenService(config.jwtSecret, config.jwtIssuer, config.tokenTtlSeconds);
const tickets = new TicketStore(pool);
const commandLog = new KafkaCommandLog(kafka, topics.messages);
const hub = new Hub();
const feed = new EventFeed(kafka, topics.events, config.instanceId, (record) => hub.publish(record), logger);

let accepting = true;
const ctx: GatewayContext = {
  config,
  logger,
  store,
  tokens,
  tickets,
  auth: new Authenticator(tokens, tickets),
  sender: new MessageSender(store, commandLog, logger),
  hub,
  isAccepting: () => accepting,
};
const app = await buildGatewayApp(ctx, () => accepting && feed.isJoined);

onShutdownSignal(logger, async () => {
  accepting = false;
  await app.close();
  await feed.stop();
  await commandLog.disconnect();
  await pool.end();
});

await commandLog.connect();
await feed.start();
await app.listen({ host: config.host, port: config.port });
