import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SendWindow } from './send-window';

test('a send window runs at most its size at once, the rest in the order they came', async () => {
  const window = new SendWindow(2);
  let running = 0;
  let most = 0;
  const started: number[] = [];
  const work = (n: number) =>
    window.run(async () => {
      started.push(n);
      most = Math.max(most, ++running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
      return n;
    });
  assert.deepEqual(await Promise.all([1, 2, 3, 4, 5].map(work)), [1, 2, 3, 4, 5]);
  assert.equal(most, 2);
  assert.deepEqual(started, [1, 2, 3, 4, 5]);
});

test('a window of one is sequential, and a failed send frees its place', async () => {
  const window = new SendWindow(1);
  await assert.rejects(window.run(() => Promise.reject(new Error('boom'))), /boom/);
  assert.equal(await window.run(() => Promise.resolve('next')), 'next');
  assert.throws(() => new SendWindow(0), /at least one/);
});
