import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkMessageText, checkRoomName, codePointLength } from './text';

test('length counts code points, so an emoji is one character', () => {
  assert.equal(codePointLength('a😀b'), 3);
  assert.equal(codePointLength(''), 0);
});

test('message text of 1 to 4000 code points is accepted, at the edges too', () => {
  assert.equal(checkMessageText('x'), null);
  assert.equal(checkMessageText('😀'.repeat(4000)), null);
  assert.equal(checkMessageText('line one\nline two\ttabbed'), null);
});

test('empty, blank, oversize and control-character text is refused with a reason', () => {
  assert.match(checkMessageText('') ?? '', /empty/);
  assert.match(checkMessageText('   \n') ?? '', /empty/);
  assert.match(checkMessageText('x'.repeat(4001)) ?? '', /4000/);
  assert.match(checkMessageText('bell\u0007') ?? '', /control/);
});

test('room names are 1 to 64 characters on one line', () => {
  assert.equal(checkRoomName('general'), null);
  assert.notEqual(checkRoomName(' '), null);
  assert.notEqual(checkRoomName('a\nb'), null);
  assert.notEqual(checkRoomName('x'.repeat(65)), null);
});
