import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CursorError, decodeCursor, encodeCursor } from './cursor';

const roomA = '0b3f1c7e-2a4d-4e8f-9a1b-3c5d7e9f1a2b';
const roomB = 'ffffffff-0000-4000-8000-000000000001';

test('a cursor round-trips every room and seq, large seqs included', () => {
  const positions = new Map([
    [roomA, 0],
    [roomB, 2 ** 40 + 7],
  ]);
  const cursor = encodeCursor(positions);
  assert.match(cursor, /^[A-Za-z0-9_-]+$/);
  assert.deepEqual(decodeCursor(cursor), positions);
});

test('an empty position set still makes a valid cursor', () => {
  assert.deepEqual(decodeCursor(encodeCursor(new Map())), new Map());
});

test('a cursor costs about 20 bytes per room', () => {
  const positions = new Map<string, number>();
  for (let i = 0; i < 100; i++) positions.set(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, 1000 + i);
  assert.ok(encodeCursor(positions).length < 100 * 26);
});

test('garbage, truncated and foreign cursors are refused with CursorError', () => {
  const good = encodeCursor(new Map([[roomA, 300]]));
  for (const bad of ['', '!!!!', 'AAAA', good.slice(0, -3), 'Ag' + good.slice(2), 'A']) {
    assert.throws(() => decodeCursor(bad), CursorError, `accepted ${JSON.stringify(bad)}`);
  }
});
