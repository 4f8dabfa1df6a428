import { kafkaConnectionConfigSpec } from '@chat/kafka';
import { int, readConfig, str } from '@chat/runtime';
import { hostname } from 'node:os';

export const presenceConfigSpec = {
  host: str('HOST', '127.0.0.1', { doc: 'The address its HTTP server listens on.' }),
  port: int('PORT', 8082, { min: 0, max: 65535, doc: 'The port of `/healthz`, `/readyz` and `/metrics`.' }),
  ...kafkaConnectionConfigSpec,
  topicPrefix: str('KAFKA_TOPIC_PREFIX', '', { doc: 'Prepended to every topic name (tests give each run its own topics).' }),
  consumerGroup: str('PRESENCE_CONSUMER_GROUP', 'presence', { doc: 'The Kafka consumer group: its replicas split the users by partition.' }),
  ttlMs: int('PRESENCE_TTL_MS', 60_000, {
    min: 100,
    doc: "A user is offline this long after their gateway's last report (gateways report every `PRESENCE_HEARTBEAT_MS`).",
  }),
  instanceId: str('INSTANCE_ID', `${hostname()}-${process.pid}`, { doc: 'Names this replica in its Kafka client id.', shownDefault: '`<hostname>-<pid>`' }),
};

export type PresenceConfig = ReturnType<typeof loadPresenceConfig>;

export function loadPresenceConfig(env: Record<string, string | undefined> = process.env) {
  return readConfig(presenceConfigSpec, env);
}
