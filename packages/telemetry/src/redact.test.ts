import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactQuery, redactUrl, roomRef } from './redact';

const ROOM = '0b3f1c7e-2a4d-4e8f-9a1b-3c5d7e9f1a2b';

test('room ids in paths and every query value but limit and transport are redacted; the shape stays', () => {
  assert.equal(redactUrl(`/api/rooms/${ROOM}/messages?after=12&limit=50`), '/api/rooms/:id/messages?after=REDACTED&limit=50');
  assert.equal(redactUrl(`/sse?rooms=${ROOM},${ROOM.toUpperCase()}&ticket=abc&from=${ROOM}:3&transport=sse`), '/sse?rooms=REDACTED&ticket=REDACTED&from=REDACTED&transport=sse');
  assert.equal(redactUrl(`/ws?token=eyJhbGciOi.x.y`), '/ws?token=REDACTED');
  assert.equal(redactUrl('/api/rooms'), '/api/rooms');
  assert.equal(redactUrl('/poll?flag'), '/poll?flag');
  assert.equal(redactQuery('a=1&&b='), 'a=REDACTED&&b=REDACTED');
  assert.doesNotMatch(redactUrl(`/x/${ROOM.toUpperCase()}?y=${ROOM}`), /0b3f1c7e/i);
});

test('a room reference is stable, short, and not the id', () => {
  assert.equal(roomRef(ROOM), roomRef(ROOM));
  assert.match(roomRef(ROOM), /^[0-9a-f]{16}$/);
  assert.notEqual(roomRef(ROOM), roomRef(ROOM.replace('0b3f', '0b3e')));
  assert.ok(!ROOM.replaceAll('-', '').includes(roomRef(ROOM)));
});
