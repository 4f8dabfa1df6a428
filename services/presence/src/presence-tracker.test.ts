import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PresenceTracker } from './presence-tracker';

const alice = { id: 'a', name: 'alice' };
const beat = (gateway: string, connections: number, ttlMs = 1_000) => ({ gateway, user: alice, connections, ttlMs });

test('a user is online while any gateway reports a connection, and offline when the last one leaves', () => {
  const tracker = new PresenceTracker(() => 0);
  assert.deepEqual(tracker.apply(beat('g1', 1)), { user: alice, status: 'online' });
  assert.equal(tracker.apply(beat('g2', 2)), null, 'a second device changes nothing');
  assert.equal(tracker.apply(beat('g1', 0)), null, 'still on g2');
  assert.deepEqual(tracker.apply(beat('g2', 0)), { user: alice, status: 'offline' });
  assert.equal(tracker.size, 0, 'offline users are forgotten');
});

test('a gateway that stops reporting takes its users offline after the TTL', () => {
  let now = 0;
  const tracker = new PresenceTracker(() => now);
  tracker.apply(beat('g1', 1, 1_000));
  now = 999;
  assert.deepEqual(tracker.expire(), []);
  now = 1_000;
  assert.deepEqual(tracker.expire(), [{ user: alice, status: 'offline' }]);
});

test('after a restart, known online users stay online without a new announcement, and go offline only after the TTL', () => {
  let now = 0;
  const tracker = new PresenceTracker(() => now);
  tracker.restore({ user: alice, status: 'online' }, 1_000);
  assert.equal(tracker.apply(beat('g1', 1, 5_000)), null, 'no flap: already published online');
  const bob = { id: 'b', name: 'bob' };
  tracker.restore({ user: bob, status: 'online' }, 1_000);
  now = 1_000;
  assert.deepEqual(tracker.expire(), [{ user: bob, status: 'offline' }], 'nobody reported bob within the TTL');
});

test('the wall clock stepping forward takes nobody offline before their report ran out (monotonic clock)', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: Date.parse('2026-01-01T00:00:00Z') });
  const tracker = new PresenceTracker();
  tracker.apply(beat('g1', 1, 60_000));
  t.mock.timers.setTime(Date.parse('2026-01-01T01:00:00Z'));
  assert.deepEqual(tracker.expire(), []);
});
