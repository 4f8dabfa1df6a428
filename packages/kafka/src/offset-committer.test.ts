import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OffsetCommitter } from './offset-committer';

/** A stand-in for the kafkajs consumer that records each commit (a pure unit test of the committer). */
function recorder(fail = false) {
  const calls: Array<Array<{ topic: string; partition: number; offset: string }>> = [];
  return {
    calls,
    consumer: {
      commitOffsets: async (offsets: Array<{ topic: string; partition: number; offset: string }>) => {
        calls.push(offsets);
        if (fail) throw new Error('rebalance in progress');
      },
    },
  };
}

test('an offset committer commits the offset after the last processed record of each partition, once', async () => {
  const { calls, consumer } = recorder();
  const committer = new OffsetCommitter(consumer, 1_000, () => assert.fail('no error expected'));
  committer.processed('events', 0, '41');
  committer.processed('events', 0, '99');
  committer.processed('events', 3, '7');
  await committer.commit();
  await committer.commit();
  assert.deepEqual(calls, [
    [
      { topic: 'events', partition: 0, offset: '100' },
      { topic: 'events', partition: 3, offset: '8' },
    ],
  ]);
});

test('a failed commit is retried at the next tick unless a later offset overtook it', async () => {
  const failing = recorder(true);
  const errors: unknown[] = [];
  const committer = new OffsetCommitter(failing.consumer, 1_000, (error) => errors.push(error));
  committer.processed('events', 0, '9');
  committer.processed('events', 1, '19');
  await committer.commit();
  assert.equal(errors.length, 1);
  committer.processed('events', 1, '29');
  await committer.commit();
  assert.deepEqual(failing.calls[1], [
    { topic: 'events', partition: 0, offset: '10' },
    { topic: 'events', partition: 1, offset: '30' },
  ]);
});

test('an offset committer commits what is done when it stops', async () => {
  const { calls, consumer } = recorder();
  const committer = new OffsetCommitter(consumer, 60_000, () => undefined);
  committer.start();
  committer.processed('events', 2, '5');
  await committer.stop();
  assert.deepEqual(calls, [[{ topic: 'events', partition: 2, offset: '6' }]]);
});
