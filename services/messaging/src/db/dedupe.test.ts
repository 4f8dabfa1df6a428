import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SendCommand } from '@chat/kafka';
import { applicableCommands, assignRoomSeqs, countPerRoom, dedupeCommands, targetKey } from './dedupe';

function command(room: string, sender: string, clientMsgId: string, text = 'hi'): SendCommand {
  return { v: 1, room, clientMsgId, text, sender: { id: sender, name: sender }, acceptedAt: '2026-01-01T00:00:00Z' };
}

test('a repeated (room, sender, clientMsgId) in one batch is kept once, the first time', () => {
  const unique = dedupeCommands([
    command('r1', 'alice', 'm1', 'first'),
    command('r1', 'alice', 'm1', 'again'),
    command('r1', 'bob', 'm1'),
    command('r2', 'alice', 'm1'),
  ]);
  assert.deepEqual(
    unique.map((c) => [c.room, c.sender.id, c.text]),
    [
      ['r1', 'alice', 'first'],
      ['r1', 'bob', 'hi'],
      ['r2', 'alice', 'hi'],
    ],
  );
});

test('seqs continue densely from each room counter in arrival order', () => {
  const fresh = [{ room: 'a' }, { room: 'b' }, { room: 'a' }, { room: 'a' }];
  const assigned = assignRoomSeqs(fresh, new Map([['a', 41]]));
  assert.deepEqual(
    assigned.map((m) => `${m.room}${m.seq}`),
    ['a42', 'b1', 'a43', 'a44'],
  );
  assert.deepEqual(countPerRoom(fresh), new Map([['a', 3], ['b', 1]]));
});

test('edits and deletes apply only to an existing, undeleted message of the same sender', () => {
  const targets = new Map([
    [targetKey('r1', 1), { senderId: 'alice', deleted: false }],
    [targetKey('r1', 2), { senderId: 'bob', deleted: false }],
    [targetKey('r1', 3), { senderId: 'alice', deleted: true }],
  ]);
  const edit = (target: number, sender: string, kind: 'message_edited' | 'message_deleted' = 'message_edited') => ({
    ...command('r1', sender, `${kind}-${target}-${sender}`),
    kind,
    target,
  });
  const kept = applicableCommands(
    [
      edit(1, 'alice'),
      edit(2, 'alice'),
      edit(3, 'alice'),
      edit(9, 'alice'),
      edit(1, 'alice', 'message_deleted'),
      edit(1, 'alice'),
      command('r1', 'carol', 'plain'),
    ],
    targets,
  );
  assert.deepEqual(
    kept.map((c) => c.clientMsgId),
    ['message_edited-1-alice', 'message_deleted-1-alice', 'plain'],
    "own edit kept; others' message, deleted, unknown target and edit-after-delete dropped",
  );
});
