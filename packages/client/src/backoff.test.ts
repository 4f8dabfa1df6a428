import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay } from './backoff';

test('the bound doubles from 1 s per attempt and stops at 30 s', () => {
  const bounds = [0, 1, 2, 3, 4, 5, 6, 10].map((attempt) => backoffDelay(attempt, undefined, () => 0.999999));
  assert.deepEqual(bounds, [999, 1999, 3999, 7999, 15999, 29999, 29999, 29999]);
});

test('the wait is anywhere from 0 to the bound (full jitter)', () => {
  assert.equal(backoffDelay(3, undefined, () => 0), 0);
  const samples = Array.from({ length: 2000 }, () => backoffDelay(2));
  assert.ok(Math.min(...samples) >= 0 && Math.max(...samples) < 4000);
  assert.ok(samples.some((s) => s < 1000) && samples.some((s) => s > 3000), 'spread over the whole range');
});
