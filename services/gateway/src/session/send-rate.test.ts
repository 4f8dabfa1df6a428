import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SendRateLimiter } from './send-rate';

test('a user may send a burst, then at the sustained rate, and is told how long to wait', () => {
  let now = 0;
  const limiter = new SendRateLimiter(10, 3, () => now);
  assert.deepEqual([limiter.take('u'), limiter.take('u'), limiter.take('u')], [0, 0, 0]);
  assert.equal(limiter.take('u'), 100);
  now += 100;
  assert.equal(limiter.take('u'), 0);
  assert.ok(limiter.take('u') > 0);
  assert.equal(limiter.take('other'), 0, 'users have buckets of their own');
});

test('sweeping forgets users whose bucket has refilled', () => {
  let now = 0;
  const limiter = new SendRateLimiter(10, 3, () => now);
  limiter.take('u');
  now += 1000;
  limiter.sweep();
  assert.deepEqual([limiter.take('u'), limiter.take('u'), limiter.take('u'), limiter.take('u') > 0], [0, 0, 0, true]);
});

test('the wall clock stepping forward (NTP, a VM resumed) refills no bucket: time is measured on the monotonic clock', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: Date.parse('2026-01-01T00:00:00Z') });
  const limiter = new SendRateLimiter(1, 1);
  assert.equal(limiter.take('u'), 0);
  assert.ok(limiter.take('u') > 0);
  t.mock.timers.setTime(Date.parse('2026-01-01T01:00:00Z'));
  assert.ok(limiter.take('u') > 0, 'still limited: no second has passed');
});
