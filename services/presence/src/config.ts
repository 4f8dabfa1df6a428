import { kafkaConnectionConfigSpec } from '@chat/kafka';
import { int, readConfig, str } from '@chat/runtime';
import { hostname } from 'node:os';

export const presenceConfigSpec = {
  host: str('HOST', '127.0.0.1'),
  port: int('PORT', 8082, { min: 0, max: 65535 }),
  ...kafkaConnectionConfigSpec,
  topicPrefix: str('KAFKA_TOPIC_PREFIX', ''),
  consumerGroup: str('PRESENCE_CONSUMER_GROUP', 'presence'),
  /** Offline this long after a gateway's last report (gateways report every PRESENCE_HEARTBEAT_MS). */
  ttlMs: int('PRESENCE_TTL_MS', 60_000, { min: 100 }),
  instanceId: str('INSTANCE_ID', `${hostname()}-${process.pid}`),
};

export type PresenceConfig = ReturnType<typeof loadPresenceConfig>;

export function loadPresenceConfig(env: Record<string, string | undefined> = process.env) {
  return readConfig(presenceConfigSpec, env);
}
