import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TypingEvent } from '@chat/protocol';
import { ClientError } from '@chat/runtime';
import { TypingNotifier } from './typing';

const alice = { id: 'a', name: 'alice' };

test('typing is published at most once per interval per user and room, and only by members', async () => {
  let now = 0;
  const published: TypingEvent[] = [];
  let reads = 0;
  const membership = async (room: string) => {
    reads++;
    return room === 'secret' ? ('not_member' as const) : ('member' as const);
  };
  const notifier = new TypingNotifier({ membership }, { typing: async (event) => void published.push(event) }, 1_000, () => now);

  assert.equal(await notifier.notify(alice, 'r1'), true);
  assert.equal(await notifier.notify(alice, 'r1'), false);
  assert.equal(await notifier.notify(alice, 'r2'), true, 'rooms are throttled separately');
  now += 1_000;
  assert.equal(await notifier.notify(alice, 'r1'), true);
  assert.deepEqual(published.map((e) => e.room), ['r1', 'r2', 'r1']);
  assert.equal(reads, 3, 'a throttled indicator costs no membership read');
  await assert.rejects(notifier.notify(alice, 'secret'), (e: unknown) => e instanceof ClientError && e.code === 'forbidden');
});

test('the wall clock stepping back does not throttle a typist for as long (monotonic clock)', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: Date.parse('2026-01-01T00:00:00Z') });
  const notifier = new TypingNotifier({ membership: async () => 'member' as const }, { typing: async () => undefined }, 50);
  assert.equal(await notifier.notify(alice, 'r1'), true);
  t.mock.timers.setTime(Date.parse('2025-12-31T23:00:00Z'));
  await new Promise((resolve) => setTimeout(resolve, 80));
  assert.equal(await notifier.notify(alice, 'r1'), true, 'the interval has passed');
});

test('an indicator Kafka refuses is dropped: the typist is not told, and nothing is left unhandled', async () => {
  let attempts = 0;
  const refusing = { typing: () => (attempts++, Promise.reject(new Error('queue full'))) };
  const notifier = new TypingNotifier({ membership: async () => 'member' as const }, refusing, 1_000, () => 0);
  assert.equal(await notifier.notify({ id: 'u1', name: 'u' }, 'r1'), true);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(attempts, 1);
});
