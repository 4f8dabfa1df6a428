import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '@chat/runtime';
import { loadMessagingConfig } from './config';

test('the Postgres pool: one connection per partition in progress plus two unless set, with the shipped time limits', () => {
  assert.deepEqual(loadMessagingConfig({}).pool, { max: 10, statementTimeoutMs: 5_000, lockTimeoutMs: 2_000, idleInTransactionTimeoutMs: 5_000, queryTimeoutMs: 8_000 });
  assert.equal(loadMessagingConfig({ MESSAGING_PARTITIONS_CONCURRENTLY: '16' }).pool.max, 18);
  assert.equal(loadMessagingConfig({ MESSAGING_PARTITIONS_CONCURRENTLY: '16', DATABASE_POOL_MAX: '3' }).pool.max, 3);
});

test('limits that would let a frozen replica hold its rooms past its partitions moving, or the client give up before the server, are refused', () => {
  assert.throws(() => loadMessagingConfig({ DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '0' }), ConfigError);
  assert.throws(() => loadMessagingConfig({ DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '10000' }), /DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS must be an integer from 100 to 9000/);
  assert.throws(() => loadMessagingConfig({ DATABASE_QUERY_TIMEOUT_MS: '5000' }), /DATABASE_QUERY_TIMEOUT_MS \(5000\) must be above DATABASE_STATEMENT_TIMEOUT_MS \(5000\)/);
  assert.equal(loadMessagingConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '0', DATABASE_QUERY_TIMEOUT_MS: '1000' }).pool.queryTimeoutMs, 1_000, 'no statement limit, nothing to be above');
});
