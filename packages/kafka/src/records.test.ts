import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFeedRecord, decodeSendCommand, encodeLogEntry, encodeSendCommand, encodeSignOut, encodeTyping, type SendCommand } from './records';

const room = '0b3f1c7e-2a4d-4e8f-9a1b-3c5d7e9f1a2b';

test('a send command round-trips, and a malformed one decodes to null instead of throwing', () => {
  const command: SendCommand = { v: 1, room, clientMsgId: 'c', text: 'hi', sender: { id: 'u', name: 'n' }, acceptedAt: '2026-01-01T00:00:00.000Z' };
  assert.deepEqual(decodeSendCommand(encodeSendCommand(command)), command);
  assert.equal(decodeSendCommand(encodeSendCommand({ ...command, kind: 'message_edited' })), null, 'an edit needs its target');
  assert.equal(decodeSendCommand(encodeSendCommand({ ...command, kind: 'message_deleted', target: 3 }))?.target, 3);
  const joining = JSON.stringify({ ...command, kind: 'member_joined', target: 1 });
  assert.equal(decodeSendCommand(Buffer.from(joining)), null, 'membership entries are never commands');
  for (const bad of ['', '{', '{"v":2}', JSON.stringify({ ...command, acceptedAt: 'yesterday' }), JSON.stringify({ ...command, sender: null })]) {
    assert.equal(decodeSendCommand(Buffer.from(bad)), null, bad);
  }
  assert.equal(decodeSendCommand(null), null);
});

test('feed records keep the message JSON byte for byte and recognise membership entries', () => {
  const event = { type: 'message' as const, room, seq: 7, id: 'i', clientMsgId: 'c', sender: { id: 'u', name: 'n' }, text: 'hi', sentAt: 'now' };
  const value = encodeLogEntry(event);
  assert.deepEqual(decodeFeedRecord(value), { kind: 'entry', type: 'message', room, seq: 7, sentAt: 'now', json: value.toString() });
  const left = encodeLogEntry({ type: 'member_left', room, seq: 8, user: { id: 'u', name: 'n' }, sentAt: 'now' });
  assert.deepEqual(decodeFeedRecord(left), { kind: 'entry', type: 'member_left', room, seq: 8, sentAt: 'now', json: left.toString(), userId: 'u' });
  assert.equal(decodeFeedRecord(Buffer.from(`{"type":"member_joined","room":"${room}","seq":9}`)), null, 'a membership entry names its user');
  assert.equal(decodeFeedRecord(Buffer.from(`{"type":"member_joined","room":"${room}","seq":9,"user":{"id":"u"}}`)), null, 'and the name clients are shown');
  assert.equal(decodeFeedRecord(encodeLogEntry({ ...event, seq: 0 })), null, 'a log starts at seq 1');
  const typing = encodeTyping({ type: 'typing', room, user: { id: 'u', name: 'n' } });
  assert.deepEqual(decodeFeedRecord(typing), { kind: 'typing', room, userId: 'u', json: typing.toString() });
  for (const bad of ['nope', '{"type":"message","room":"r"}', '{"type":"other","room":"r"}', '{"type":"typing","room":"r"}']) {
    assert.equal(decodeFeedRecord(Buffer.from(bad)), null, bad);
  }
});

test('the membership records of gateways of the previous release, which a rolling upgrade still carries, decode as such', () => {
  // Byte for byte what those gateways publish: no seq, the user in `userId`.
  const joined = Buffer.from(JSON.stringify({ type: 'member_joined', room, userId: 'u', lastSeq: 3 }));
  const left = Buffer.from(JSON.stringify({ type: 'member_left', room, userId: 'u' }));
  assert.deepEqual(decodeFeedRecord(joined), { kind: 'legacy_member_joined', room, userId: 'u', lastSeq: 3 });
  assert.deepEqual(decodeFeedRecord(left), { kind: 'legacy_member_left', room, userId: 'u' });
});

test('a sign-out record round-trips; one without a user id, or with a bad time, decodes to null', () => {
  const userId = '0b3f1c7e-2a4d-4e8f-9a1b-3c5d7e9f1a2b';
  assert.deepEqual(decodeFeedRecord(encodeSignOut({ userId, at: 1_700_000_000_123 })), { kind: 'signed_out', userId, at: 1_700_000_000_123 });
  for (const bad of [{ userId: 'not-a-uuid', at: 1 }, { userId, at: -5 }, { userId, at: 1.5 }, { userId, at: '1' }, { at: 1 }]) {
    assert.equal(decodeFeedRecord(Buffer.from(JSON.stringify({ type: 'signed_out', ...bad }))), null, JSON.stringify(bad));
  }
});
