import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expireTyping, withTyping } from './typing-state';

const bob = { id: 'b', name: 'bob' };

test('a typing indicator shows until its time runs out, and a message from the typist clears it at once', () => {
  let typing = withTyping(new Map(), 'r', bob, 5_000, 1_000);
  assert.deepEqual([...typing.get('r')!.values()], [{ name: 'bob', until: 5_000 }]);
  assert.equal(expireTyping(typing, 4_999), typing, 'nothing expired: the same map');
  assert.equal(expireTyping(typing, 5_000).get('r')!.size, 0);
  typing = withTyping(typing, 'r', bob, 0, 2_000);
  assert.equal(typing.get('r')!.size, 0);
});
