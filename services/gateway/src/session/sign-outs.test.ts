import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientError } from '@chat/runtime';
import type { SignOut, SignOutStore } from '../ports/sign-out-store';
import { SignOuts } from './sign-outs';

/** Postgres as the poll sees it: the rows, the clock, and each read's arguments. */
function fakeStore(rows: SignOut[], clock: { now: number }) {
  const reads: Array<number | undefined> = [];
  const store: SignOutStore = {
    signOut: async () => clock.now,
    signOutsSince: async (since, windowSeconds) => {
      reads.push(since);
      const from = Math.max(since ?? -Infinity, clock.now - windowSeconds * 1000);
      return { signOuts: rows.filter((row) => row.at > from), databaseNow: clock.now };
    },
  };
  return { store, reads };
}

const principal = (id: string, issuedAt: number) => ({ user: { id, name: id }, expiresAt: Infinity, issuedAt });
const refused = (signOuts: SignOuts, id: string, issuedAt: number) => {
  try {
    signOuts.check(principal(id, issuedAt));
    return false;
  } catch (error) {
    assert.ok(error instanceof ClientError && error.code === 'unauthenticated');
    return true;
  }
};

test('a token issued before its user signed out is refused; one issued after, and other users, are not', () => {
  const ended: string[] = [];
  const signOuts = new SignOuts(fakeStore([], { now: 0 }).store, (userId, at) => ended.push(`${userId}@${at}`), 3600);
  signOuts.record({ userId: 'alice', at: 5_000 });
  assert.equal(refused(signOuts, 'alice', 4_999), true);
  assert.equal(refused(signOuts, 'alice', 5_000), false, 'signed in again at that moment');
  assert.equal(refused(signOuts, 'bob', 1), false);
  // The same sign-out again (Postgres after the feed), or an older one, ends nothing more.
  signOuts.record({ userId: 'alice', at: 5_000 });
  signOuts.record({ userId: 'alice', at: 4_000 });
  assert.deepEqual(ended, ['alice@5000']);
  signOuts.record({ userId: 'alice', at: 9_000 });
  assert.deepEqual(ended, ['alice@5000', 'alice@9000']);
  assert.equal(refused(signOuts, 'alice', 6_000), true);
});

test("polls read the whole window first, then from the last read (on the database's clock) with an overlap, and forget what is past the window", async () => {
  const clock = { now: 100_000_000 };
  const rows: SignOut[] = [{ userId: 'old', at: clock.now - 3_600_000 - 1 }, { userId: 'recent', at: clock.now - 1_000 }];
  const { store, reads } = fakeStore(rows, clock);
  const ended: string[] = [];
  const signOuts = new SignOuts(store, (userId) => ended.push(userId), 3600);
  await signOuts.poll();
  assert.deepEqual(ended, ['recent'], 'a sign-out past the window voids no token still valid');
  // One recorded by another gateway whose feed record was lost, committed with a time a little in the past.
  clock.now += 10_000;
  rows.push({ userId: 'lost-record', at: clock.now - 20_000 });
  await signOuts.poll();
  assert.deepEqual(reads, [undefined, 100_000_000 - 30_000]);
  assert.deepEqual(ended, ['recent', 'lost-record']);
  clock.now += 3_600_000;
  await signOuts.poll();
  assert.equal(signOuts.size, 0, 'every sign-out is past the window now');
});
