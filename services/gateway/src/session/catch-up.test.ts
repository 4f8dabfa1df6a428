import { test } from 'node:test';
import assert from 'node:assert/strict';
import { catchUpStep, MAX_HOLE_ROUNDS, type CatchUpState } from './catch-up';

const entries = (...seqs: number[]) => seqs.map((seq) => ({ seq }));
const state = (position: number, buffered: number[] = [], holeRounds = 0): CatchUpState<{ seq: number }> => ({
  position,
  holeRounds,
  buffered: entries(...buffered),
});
const delivered = (step: ReturnType<typeof catchUpStep>) => step.deliver.map(({ entry }) => entry.seq);

test('history first, then the events buffered meanwhile, in seq order, without the ones history already served', () => {
  const step = catchUpStep(state(3, [7, 5, 6, 8]), entries(4, 5, 6), false);
  assert.deepEqual(delivered(step), [4, 5, 6, 7, 8]);
  assert.equal(step.next, 'live');
  assert.equal(step.position, 8);
  assert.deepEqual(step.buffered, []);
  assert.ok(step.deliver.every(({ skippedFrom }) => skippedFrom === undefined));
});

test('a repeat, buffered twice or at the position, is dropped', () => {
  assert.deepEqual(delivered(catchUpStep(state(5, [5, 6, 6, 4, 7]), [], false)), [6, 7]);
});

test('a full page leaves the buffer waiting for the next page', () => {
  const step = catchUpStep(state(0, [9]), entries(1, 2, 3), true);
  assert.deepEqual(delivered(step), [1, 2, 3]);
  assert.equal(step.next, 'page');
  assert.equal(step.position, 3);
  assert.deepEqual(step.buffered, entries(9), 'not delivered past the rest of history');
});

test('a buffered event past a gap waits for another read, and keeps what comes after it', () => {
  const step = catchUpStep(state(3, [9, 4, 7]), [], false);
  assert.deepEqual(delivered(step), [4], 'up to the gap');
  assert.equal(step.next, 'hole');
  assert.equal(step.holeRounds, 1);
  assert.equal(step.position, 4);
  assert.deepEqual(step.buffered, entries(7, 9));
});

test('the gap fills on the next read: the rounds start over', () => {
  const step = catchUpStep(state(4, [7, 9], 1), entries(5, 6, 7, 8), false);
  assert.deepEqual(delivered(step), [5, 6, 7, 8, 9]);
  assert.equal(step.next, 'live');
  assert.equal(step.holeRounds, 0);
});

test(`after ${MAX_HOLE_ROUNDS} more reads before the same gap, the stream must resync: nothing is delivered past the gap`, () => {
  let current = state(4, [7, 8]);
  for (let round = 1; round <= MAX_HOLE_ROUNDS; round++) {
    const step = catchUpStep(current, [], false);
    assert.equal(step.next, 'hole', `round ${round}`);
    assert.deepEqual(delivered(step), []);
    current = step;
  }
  const last = catchUpStep(current, entries(5), false);
  assert.equal(last.next, 'resync');
  assert.deepEqual(delivered(last), [5], 'what history served up to the gap still goes out');
  assert.equal(last.position, 5, 'the position stays before the gap, where the client resumes');
  assert.deepEqual(last.buffered, entries(7, 8));
  assert.ok(last.deliver.every(({ skippedFrom }) => skippedFrom === undefined), 'no entry past the gap');
});

test('a gap inside what Postgres served is a lost row: delivered past at once, marked, without waiting', () => {
  const step = catchUpStep(state(2), entries(3, 5, 6), true);
  assert.deepEqual(step.deliver, [{ entry: { seq: 3 } }, { entry: { seq: 5 }, skippedFrom: 3 }, { entry: { seq: 6 } }]);
  assert.equal(step.next, 'page', 'and the next page starts after it, so a full page of rows past a lost one cannot loop');
  assert.equal(step.position, 6);
});
