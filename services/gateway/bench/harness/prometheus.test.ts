import { test } from 'node:test';
import assert from 'node:assert/strict';
import { intervalQuantiles } from './prometheus';

const scrape = (counts: [string, number][], labels = 'topic="t"') => counts.map(([le, n]) => `h_bucket{${labels},le="${le}"} ${n}`).join('\n');

test('percentiles over an interval come from the difference of two scrapes, interpolated within the bucket', () => {
  const before = scrape([
    ['0.01', 100],
    ['0.02', 100],
    ['+Inf', 100],
  ]);
  // 100 observations in the interval: 50 under 10 ms, 48 between 10 and 20 ms, 2 above.
  const after = scrape([
    ['0.01', 150],
    ['0.02', 198],
    ['+Inf', 200],
  ]);
  const q = intervalQuantiles(before, after, 'h', 'topic="t"');
  assert.equal(q.count, 100);
  assert.equal(q.p50, 10);
  assert.equal(q.p99, 20, 'past the last finite bound: that bound');
  assert.ok(Number.isNaN(intervalQuantiles(after, after, 'h').p50), 'nothing observed');
  assert.equal(intervalQuantiles('', after, 'h', 'topic="other"').count, 0, 'other series are left out');
});
