import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WriteBurst } from './write-burst';

/** Records cork/uncork calls the way a net.Socket counts them, and holds written bytes until uncorked. */
function recorder() {
  const calls: string[] = [];
  const stream = {
    writableLength: 0,
    cork: () => calls.push('cork'),
    uncork: () => {
      calls.push('uncork');
      stream.writableLength = 0;
    },
    write: (chunk: Buffer) => {
      stream.writableLength += chunk.length;
      return true;
    },
  };
  return { calls, stream };
}

test('writes begun in one task are held back together and let go once that task is done', async () => {
  const { calls, stream } = recorder();
  const burst = new WriteBurst(stream);
  for (let i = 0; i < 3; i++) burst.write(Buffer.alloc(100));
  assert.deepEqual(calls, ['cork']);
  assert.equal(stream.writableLength, 300);
  assert.equal(burst.backlog, 0, 'the burst itself is no backlog');
  await Promise.resolve();
  assert.deepEqual(calls, ['cork', 'uncork']);
  stream.writableLength = 50; // what the client has not read yet
  assert.equal(burst.backlog, 50);
});

test('a burst larger than 16 KiB is let go as it grows, so it never looks like a backlog', async () => {
  const { calls, stream } = recorder();
  const burst = new WriteBurst(stream);
  burst.write(Buffer.alloc(10_000));
  burst.write(Buffer.alloc(10_000));
  assert.deepEqual(calls, ['cork', 'uncork', 'cork']);
  assert.equal(burst.backlog, 0);
  await Promise.resolve();
  assert.deepEqual(calls, ['cork', 'uncork', 'cork', 'uncork']);
});
