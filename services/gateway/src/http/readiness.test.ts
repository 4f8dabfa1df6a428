import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayReadiness, type FeedState } from './readiness';

function setUp(options: { ping?: () => Promise<unknown>; feeds?: Record<string, FeedState>; accepting?: boolean } = {}) {
  let pings = 0;
  const readiness = new GatewayReadiness({
    accepting: () => options.accepting ?? true,
    pingDatabase: () => {
      pings++;
      return (options.ping ?? (async () => undefined))();
    },
    databaseTimeoutMs: 50,
    feeds: options.feeds ?? { events: { isReady: true, hasJoined: true } },
  });
  return { readiness, pings: () => pings };
}

test('ready while Postgres answers, the feeds have joined, and it is not draining', async () => {
  const { readiness } = setUp({ feeds: { events: { isReady: true, hasJoined: true }, presence: { isReady: true, hasJoined: true } } });
  assert.deepEqual(await readiness.check(), { status: 'ready', checks: { draining: false, database: 'ok', events: 'ok', presence: 'ok' } });
});

test('a feed that is down after it joined once is a degraded detail, not a 503', async () => {
  const { readiness } = setUp({ feeds: { events: { isReady: false, hasJoined: true }, presence: { isReady: true, hasJoined: true } } });
  assert.deepEqual(await readiness.check(), { status: 'degraded', checks: { draining: false, database: 'ok', events: 'reconnecting', presence: 'ok' } });
});

test('not ready while a feed has never joined (start-up), while draining, or while Postgres fails or is late', async () => {
  assert.equal((await setUp({ feeds: { events: { isReady: false, hasJoined: false } } }).readiness.check()).checks.events, 'starting');
  assert.equal((await setUp({ feeds: { events: { isReady: false, hasJoined: false } } }).readiness.check()).status, 'not_ready');
  assert.deepEqual(await setUp({ accepting: false }).readiness.check(), { status: 'not_ready', checks: { draining: true, database: 'ok', events: 'ok' } });
  const failing = setUp({ ping: () => Promise.reject(new Error('connection refused')) });
  assert.deepEqual(await failing.readiness.check(), { status: 'not_ready', checks: { draining: false, database: 'unreachable', events: 'ok' } });
  const started = performance.now();
  const hanging = setUp({ ping: () => new Promise(() => undefined) });
  assert.deepEqual(await hanging.readiness.check(), { status: 'not_ready', checks: { draining: false, database: 'timeout', events: 'ok' } });
  assert.ok(performance.now() - started < 1_000, 'answered at the deadline');
});

test('probes at the same time share one Postgres query', async () => {
  let answer: () => void = () => undefined;
  const { readiness, pings } = setUp({ ping: () => new Promise<void>((resolve) => (answer = resolve)) });
  const checks = Promise.all([readiness.check(), readiness.check(), readiness.check()]);
  answer();
  assert.deepEqual((await checks).map((check) => check.status), ['ready', 'ready', 'ready']);
  assert.equal(pings(), 1);
  await readiness.check();
  assert.equal(pings(), 2, 'the next probe asks again');
});
