import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeliveryLedger, membersOfRoom, probeSentAt, probeText, roomIndexOfVu } from './delivery-ledger';

test('a receiver that got every seq after its start position has lost nothing', () => {
  const ledger = new DeliveryLedger();
  ledger.open('r', 4);
  for (const seq of [5, 6, 7]) assert.equal(ledger.receive('r', seq), 'new');
  assert.deepEqual(ledger.settle('r', 7), { room: 'r', expected: 3, delivered: 3, lost: 0 });
  assert.equal(ledger.duplicates, 0);
  assert.equal(ledger.reorders, 0);
});

test('a seq missing in the middle or at the end counts as lost', () => {
  const ledger = new DeliveryLedger();
  ledger.open('r', 0);
  ledger.receive('r', 1);
  ledger.receive('r', 3);
  assert.deepEqual(ledger.settle('r', 4), { room: 'r', expected: 4, delivered: 2, lost: 2 });
});

test('a seq seen twice, or one from before the stream opened, is a duplicate and never a delivery', () => {
  const ledger = new DeliveryLedger();
  ledger.open('r', 10);
  ledger.receive('r', 11);
  assert.equal(ledger.receive('r', 11), 'duplicate');
  assert.equal(ledger.receive('r', 9), 'duplicate');
  assert.equal(ledger.duplicates, 2);
  assert.deepEqual(ledger.settle('r', 11), { room: 'r', expected: 1, delivered: 1, lost: 0 });
});

test('a seq below one already received is out of order but still delivered', () => {
  const ledger = new DeliveryLedger();
  ledger.open('r', 0);
  ledger.receive('r', 2);
  assert.equal(ledger.receive('r', 1), 'reordered');
  assert.equal(ledger.reorders, 1);
  assert.equal(ledger.settle('r', 2).lost, 0);
});

test('rooms are accounted separately', () => {
  const ledger = new DeliveryLedger();
  ledger.open('a', 0);
  ledger.open('b', 5);
  ledger.receive('a', 1);
  ledger.receive('b', 6);
  ledger.receive('b', 7);
  assert.equal(ledger.settle('a', 1).lost, 0);
  assert.equal(ledger.settle('b', 8).lost, 1);
  assert.throws(() => ledger.receive('c', 1), /never opened/);
});

test('probe texts carry the send time and other texts carry none', () => {
  assert.equal(probeSentAt(probeText(1_700_000_000_123, 3, 9)), 1_700_000_000_123);
  assert.equal(probeSentAt('hello'), undefined);
});

test('VUs spread over rooms round-robin and each room knows how many receivers it has', () => {
  assert.deepEqual([1, 2, 3, 4, 5].map((vu) => roomIndexOfVu(vu, 2)), [0, 1, 0, 1, 0]);
  assert.deepEqual([0, 1].map((room) => membersOfRoom(room, 5, 2)), [3, 2]);
  assert.equal(membersOfRoom(0, 4, 4) + membersOfRoom(3, 4, 4), 2);
});

test('an entry that is no message (a later join) fills its seq without counting as a delivery', () => {
  const ledger = new DeliveryLedger();
  ledger.open('r', 4);
  ledger.receive('r', 5);
  ledger.receive('r', 6, 'other');
  ledger.receive('r', 7);
  assert.deepEqual(ledger.settle('r', 7), { room: 'r', expected: 2, delivered: 2, lost: 0 });
  assert.deepEqual(ledger.settle('r', 8), { room: 'r', expected: 3, delivered: 2, lost: 1 }, 'a seq never seen is lost, whatever it held');
});
