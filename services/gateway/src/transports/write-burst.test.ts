import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WriteBurst } from './write-burst';

/** Records cork/uncork calls the way a net.Socket counts them. */
function recorder() {
  const calls: string[] = [];
  return { calls, stream: { cork: () => calls.push('cork'), uncork: () => calls.push('uncork') } };
}

test('writes begun in one task are held back together and let go once that task is done', async () => {
  const { calls, stream } = recorder();
  const burst = new WriteBurst(stream);
  for (let i = 0; i < 3; i++) {
    burst.begin();
    burst.wrote(100);
  }
  assert.deepEqual(calls, ['cork']);
  assert.equal(burst.pendingBytes, 300);
  await Promise.resolve();
  assert.deepEqual(calls, ['cork', 'uncork']);
  assert.equal(burst.pendingBytes, 0);
});

test('a burst larger than 16 KiB is let go as it grows, so it never looks like a backlog', async () => {
  const { calls, stream } = recorder();
  const burst = new WriteBurst(stream);
  burst.begin();
  burst.wrote(10_000);
  burst.begin();
  burst.wrote(10_000);
  assert.deepEqual(calls, ['cork', 'uncork', 'cork']);
  assert.equal(burst.pendingBytes, 0);
  await Promise.resolve();
  assert.deepEqual(calls, ['cork', 'uncork', 'cork', 'uncork']);
});
