import { kafkaConnectionConfigSpec } from '@chat/kafka';
import { poolSettings } from '@chat/db';
import { int, readConfig, str } from '@chat/runtime';
import { hostname } from 'node:os';

export const messagingConfigSpec = {
  host: str('HOST', '127.0.0.1', { doc: 'The address its HTTP server listens on.' }),
  port: int('PORT', 8081, { min: 0, max: 65535, doc: 'The port of `/healthz`, `/readyz` and `/metrics`.' }),
  databaseUrl: str('DATABASE_URL', 'postgres://postgres@127.0.0.1:5433/chat', { doc: 'The Postgres database the messages are stored in.' }),
  ...kafkaConnectionConfigSpec,
  topicPrefix: str('KAFKA_TOPIC_PREFIX', '', { doc: 'Prepended to every topic name (tests give each run its own topics).' }),
  consumerGroup: str('MESSAGING_CONSUMER_GROUP', 'messaging', { doc: 'The Kafka consumer group: its replicas split `chat.messages` by partition.' }),
  // Their batches of sends share one statement (CoalescedSends); a batch with edits or deletes holds a
  // connection of its own for its transaction.
  partitionsConcurrently: int('MESSAGING_PARTITIONS_CONCURRENTLY', 8, {
    min: 1,
    max: 64,
    doc: "Partitions processed at once; fewer than a replica is assigned adds waves to every message's latency (docs/kafka.md).",
  }),
  databasePoolMax: int('DATABASE_POOL_MAX', 0, {
    min: 0,
    doc: 'Postgres connections at most (0: the default). Sends of all partitions share statements, so a few carry them; a batch with edits or deletes holds one for its transaction, and waits for one when none is free.',
    shownDefault: '`MESSAGING_PARTITIONS_CONCURRENTLY` + 2',
  }),
  databaseStatementTimeoutMs: int('DATABASE_STATEMENT_TIMEOUT_MS', 5_000, {
    min: 0,
    doc: "Postgres cancels a statement that runs longer, lock waits included (0: never); the batch is retried. Far above the largest batch's insert (about 200 ms for 5,000 sends, more than a partition's 1 MB fetch holds) and below the consumer's 10 s Kafka session timeout, past which the batch's partition would move anyway.",
  }),
  databaseLockTimeoutMs: int('DATABASE_LOCK_TIMEOUT_MS', 2_000, {
    min: 0,
    doc: "Postgres cancels a statement that waits longer for a room's counter row (0: never); the batch is retried, and the other partitions' batches that shared its statement are stored without it. Legitimately held by another writer's statement for milliseconds, mid-rebalance; shorter than `DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS`, so a frozen holder stalls nothing but its own rooms.",
  }),
  databaseIdleInTransactionTimeoutMs: int('DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS', 5_000, {
    min: 100,
    max: 9_000,
    doc: "Postgres ends a session idle this long inside a transaction and rolls it back: a replica frozen (or cut off) in an edit's transaction releases its rooms before its partitions can move to a peer, which happens after the consumer's 10 s Kafka session timeout. A transaction's statements follow each other within a round trip.",
  }),
  databaseQueryTimeoutMs: int('DATABASE_QUERY_TIMEOUT_MS', 8_000, {
    min: 0,
    doc: 'A query Postgres has not answered after this long fails and its connection is dropped (0: never); the batch is retried. The backstop for a server that does not answer at all; above `DATABASE_STATEMENT_TIMEOUT_MS`.',
  }),
  instanceId: str('INSTANCE_ID', `${hostname()}-${process.pid}`, { doc: 'Names this replica in its Kafka client id.', shownDefault: '`<hostname>-<pid>`' }),
};

export type MessagingConfig = ReturnType<typeof loadMessagingConfig>;

export function loadMessagingConfig(env: Record<string, string | undefined> = process.env) {
  const config = readConfig(messagingConfigSpec, env);
  const pool = poolSettings({
    max: config.databasePoolMax || config.partitionsConcurrently + 2,
    statementTimeoutMs: config.databaseStatementTimeoutMs,
    lockTimeoutMs: config.databaseLockTimeoutMs,
    idleInTransactionTimeoutMs: config.databaseIdleInTransactionTimeoutMs,
    queryTimeoutMs: config.databaseQueryTimeoutMs,
  });
  return { ...config, pool };
}
