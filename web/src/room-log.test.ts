import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MemberJoinedEvent, MessageDeletedEvent, MessageEditedEvent, MessageEvent } from '@chat/protocol';
import { applyEntries, emptyLog, hasOlder } from './room-log';

const sender = { id: 'u1', name: 'alice' };
const message = (seq: number, text = `m${seq}`): MessageEvent => ({
  type: 'message', room: 'r', seq, id: `id${seq}`, clientMsgId: `c${seq}`, sender, text, sentAt: '2026-01-01T00:00:00Z',
});
const edit = (seq: number, target: number, text: string): MessageEditedEvent => ({
  type: 'message_edited', room: 'r', seq, id: `id${seq}`, clientMsgId: `c${seq}`, sender, target, text, sentAt: '2026-01-01T00:01:00Z',
});
const remove = (seq: number, target: number): MessageDeletedEvent => ({
  type: 'message_deleted', room: 'r', seq, id: `id${seq}`, clientMsgId: `c${seq}`, sender, target, sentAt: '2026-01-01T00:02:00Z',
});

test('live messages and a history page merge into one ascending list without repeats', () => {
  let log = applyEntries(emptyLog(), [message(5), message(6)]);
  log = applyEntries(log, [message(3), message(4), message(5)], { fromHistory: true });
  assert.deepEqual(log.messages.map((m) => m.seq), [3, 4, 5, 6]);
  assert.equal(log.lastSeq, 6);
  assert.equal(log.oldestSeq, 3);
  assert.equal(hasOlder(log), true);
  log = applyEntries(log, [message(1), message(2)], { fromHistory: true });
  assert.equal(hasOlder(log), false);
});

test('an edit and a delete change their targets and are not listed themselves', () => {
  const log = applyEntries(emptyLog(), [message(1), message(2), edit(3, 1, 'fixed'), remove(4, 2)]);
  assert.deepEqual(log.messages.map((m) => [m.seq, m.text, Boolean(m.editedAt), Boolean(m.deleted)]), [
    [1, 'fixed', true, false],
    [2, '', false, true],
  ]);
  assert.equal(log.lastSeq, 4);
});

test('a change that arrives before its target still applies once the target is loaded', () => {
  let log = applyEntries(emptyLog(), [edit(9, 2, 'later text')]);
  log = applyEntries(log, [message(2, 'old text')], { fromHistory: true });
  assert.equal(log.messages[0]!.text, 'later text');
});

test('an older edit never overrides a newer one, and nothing revives a deleted message', () => {
  let log = applyEntries(emptyLog(), [message(1), edit(3, 1, 'newer')]);
  log = applyEntries(log, [edit(2, 1, 'older')], { fromHistory: true });
  assert.equal(log.messages[0]!.text, 'newer');
  log = applyEntries(log, [remove(4, 1), edit(5, 1, 'after delete')]);
  assert.equal(log.messages[0]!.deleted, true);
  assert.equal(log.messages[0]!.text, '');
});

test('joins and leaves are kept once each in seq order, beside the messages, live or from history', () => {
  const joined = (seq: number): MemberJoinedEvent => ({ type: 'member_joined', room: 'r', seq, user: { id: 'u2', name: 'bob' }, sentAt: '2026-01-01T00:00:00Z' });
  let log = applyEntries(emptyLog(), [message(1), { ...joined(2), cursor: 'c' } as MemberJoinedEvent, message(3)]);
  log = applyEntries(log, [joined(2), { ...joined(4), type: 'member_left' }], { fromHistory: true });
  assert.deepEqual(log.messages.map((m) => m.seq), [1, 3]);
  assert.deepEqual(log.memberships.map((m) => [m.seq, m.type]), [[2, 'member_joined'], [4, 'member_left']]);
  assert.equal(log.lastSeq, 4);
  assert.equal('cursor' in log.memberships[0]!, false, 'a stream position is not part of the entry');
});
