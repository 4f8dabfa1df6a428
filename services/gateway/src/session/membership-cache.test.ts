import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Membership } from '../ports/access';
import { MembershipCache } from './membership-cache';

/** A membership table that counts its reads; `answer` can be held back to model a slow query. */
function fakeStore(members: Set<string>) {
  const store = {
    reads: 0,
    held: null as null | (() => void),
    holdNext: false,
    async access(room: string, user: string): Promise<{ membership: Membership; lastSeq: number }> {
      store.reads++;
      const membership: Membership = room === 'gone' ? 'no_room' : members.has(`${room}/${user}`) ? 'member' : 'not_member';
      if (store.holdNext) {
        store.holdNext = false;
        await new Promise<void>((resolve) => (store.held = resolve));
      }
      return { membership, lastSeq: 0 };
    },
  };
  return store;
}

test('a member is read from Postgres once and then remembered until the ttl runs out', async () => {
  let now = 0;
  const store = fakeStore(new Set(['r1/alice']));
  const cache = new MembershipCache(store, 1_000, 100, () => now);
  assert.equal(await cache.membership('r1', 'alice'), 'member');
  assert.equal(await cache.membership('r1', 'alice'), 'member');
  assert.equal(store.reads, 1);
  now += 1_000;
  assert.equal(await cache.membership('r1', 'alice'), 'member');
  assert.equal(store.reads, 2, 'an expired entry is read again');
});

test('refusals are remembered for a few seconds, so a non-member costs one query in that time; a join forgets them', async () => {
  let now = 0;
  const members = new Set<string>();
  const store = fakeStore(members);
  const cache = new MembershipCache(store, 30_000, 100, () => now, 5_000);
  for (let i = 0; i < 50; i++) {
    assert.equal(await cache.membership('r1', 'bob'), 'not_member');
    assert.equal(await cache.membership('gone', 'bob'), 'no_room');
  }
  assert.equal(store.reads, 2, 'one read each for fifty typing frames or sends');
  // Bob joins through some gateway: its member_joined entry (or the join route here) forgets the refusal.
  members.add('r1/bob');
  cache.forget('r1', 'bob');
  assert.equal(await cache.membership('r1', 'bob'), 'member');
  assert.equal(store.reads, 3);
  // Without the event, the refusal holds for its short ttl only.
  assert.equal(await cache.membership('r2', 'carol'), 'not_member');
  members.add('r2/carol');
  now += 4_999;
  assert.equal(await cache.membership('r2', 'carol'), 'not_member');
  now += 1;
  assert.equal(await cache.membership('r2', 'carol'), 'member');
});

test('remembered refusals are bounded: the oldest goes first, and a sweep drops the expired ones', async () => {
  let now = 0;
  const store = fakeStore(new Set());
  const cache = new MembershipCache(store, 30_000, 3, () => now, 1_000);
  for (const room of ['a', 'b', 'c', 'd']) await cache.membership(room, 'mallory');
  assert.equal(store.reads, 4);
  await cache.membership('a', 'mallory');
  assert.equal(store.reads, 5, 'the oldest refusal was evicted past maxEntries');
  await cache.membership('d', 'mallory');
  assert.equal(store.reads, 5, 'a recent one is still remembered');
  now += 1_000;
  cache.sweep();
  await cache.membership('d', 'mallory');
  assert.equal(store.reads, 6, 'swept once expired');
});

test('forget drops a member at once, even one whose lookup is still in flight', async () => {
  const members = new Set(['r1/alice']);
  const store = fakeStore(members);
  const cache = new MembershipCache(store);
  await cache.membership('r1', 'alice');
  members.delete('r1/alice');
  cache.forget('r1', 'alice');
  assert.equal(await cache.membership('r1', 'alice'), 'not_member');

  // A lookup that read "member" before the leave must not put the entry back. (She joins again first, which forgets
  // the refusal just remembered.)
  members.add('r1/alice');
  cache.forget('r1', 'alice');
  store.holdNext = true;
  const inFlight = cache.membership('r1', 'alice');
  await new Promise((resolve) => setImmediate(resolve));
  members.delete('r1/alice');
  cache.forget('r1', 'alice');
  store.held!();
  assert.equal(await inFlight, 'member', 'the caller that asked before the leave gets that answer');
  assert.equal(await cache.membership('r1', 'alice'), 'not_member');
});

test('concurrent checks of one key share a query, and the cache holds at most maxEntries', async () => {
  const store = fakeStore(new Set(['r1/a', 'r1/b', 'r1/c']));
  const cache = new MembershipCache(store, 60_000, 2);
  const answers = await Promise.all([cache.membership('r1', 'a'), cache.membership('r1', 'a'), cache.membership('r1', 'a')]);
  assert.deepEqual(answers, ['member', 'member', 'member']);
  assert.equal(store.reads, 1);
  await cache.membership('r1', 'b');
  await cache.membership('r1', 'c');
  assert.equal(cache.size, 2);
  await cache.membership('r1', 'a');
  assert.equal(store.reads, 4, 'the oldest entry was evicted');
});

test('a failed lookup is not remembered and the next check tries again', async () => {
  let fail = true;
  const cache = new MembershipCache({
    async access() {
      if (fail) throw new Error('postgres is down');
      return { membership: 'member' as const, lastSeq: 0 };
    },
  });
  await assert.rejects(cache.membership('r1', 'a'), /postgres is down/);
  fail = false;
  assert.equal(await cache.membership('r1', 'a'), 'member');
});

test('the wall clock stepping forward or back does not change how long a member is remembered (monotonic clock)', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: Date.parse('2026-01-01T00:00:00Z') });
  const store = fakeStore(new Set(['r/u']));
  const cache = new MembershipCache(store, 60);
  assert.equal(await cache.membership('r', 'u'), 'member');
  t.mock.timers.setTime(Date.parse('2026-01-01T01:00:00Z'));
  assert.equal(await cache.membership('r', 'u'), 'member');
  assert.equal(store.reads, 1, 'an hour on the wall clock is not an hour of the ttl');
  t.mock.timers.setTime(Date.parse('2025-12-31T23:00:00Z'));
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(await cache.membership('r', 'u'), 'member');
  assert.equal(store.reads, 2, 'nor does a step back make an entry outlive its ttl');
});
