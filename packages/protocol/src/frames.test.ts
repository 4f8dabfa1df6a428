import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseClientFrame } from './frames';

const room = '0b3f1c7e-2a4d-4e8f-9a1b-3c5d7e9f1a2b';

test('each client frame type of the contract parses', () => {
  for (const frame of [
    { type: 'send', room, clientMsgId: 'c1', text: 'hi' },
    { type: 'subscribe', rooms: [room] },
    { type: 'unsubscribe', rooms: [room] },
    { type: 'typing', room },
    { type: 'ping' },
  ]) {
    const result = parseClientFrame(JSON.stringify(frame));
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(result.frame, frame);
  }
});

test('malformed input gets an invalid_input error frame instead of a throw', () => {
  const cases: Array<[string, RegExp]> = [
    ['{not json', /not valid JSON/],
    ['[1,2]', /JSON object/],
    ['"ping"', /JSON object/],
    ['{"type":"launch"}', /unknown frame type/],
    ['{}', /unknown frame type/],
    [JSON.stringify({ type: 'ping', extra: 1 }), /invalid ping frame/],
    [JSON.stringify({ type: 'send', room: 'nope', clientMsgId: 'c', text: 'x' }), /invalid send frame/],
    [JSON.stringify({ type: 'subscribe', rooms: [] }), /invalid subscribe frame/],
  ];
  for (const [raw, message] of cases) {
    const result = parseClientFrame(raw);
    assert.equal(result.ok, false, raw);
    if (!result.ok) {
      assert.equal(result.error.type, 'error');
      assert.equal(result.error.code, 'invalid_input');
      assert.match(result.error.message, message, raw);
    }
  }
});

test('a send with bad text names its clientMsgId so the sender can match the error', () => {
  const result = parseClientFrame(JSON.stringify({ type: 'send', room, clientMsgId: 'c9', text: 'x'.repeat(4001) }));
  assert.equal(result.ok, false);
  if (!result.ok) assert.equal(result.error.clientMsgId, 'c9');
});

test('room ids in any case parse to the lower-case id that Postgres, Kafka and the streams key by', () => {
  const upper = room.toUpperCase();
  for (const [frame, expected] of [
    [{ type: 'send', room: upper, clientMsgId: 'c1', text: 'hi' }, { type: 'send', room, clientMsgId: 'c1', text: 'hi' }],
    [{ type: 'edit', room: upper, target: 3, clientMsgId: 'c2', text: 'hi' }, { type: 'edit', room, target: 3, clientMsgId: 'c2', text: 'hi' }],
    [{ type: 'delete', room: upper, target: 3, clientMsgId: 'c3' }, { type: 'delete', room, target: 3, clientMsgId: 'c3' }],
    [{ type: 'typing', room: upper }, { type: 'typing', room }],
    [{ type: 'subscribe', rooms: [upper] }, { type: 'subscribe', rooms: [room] }],
    [{ type: 'unsubscribe', rooms: [upper] }, { type: 'unsubscribe', rooms: [room] }],
  ] as const) {
    const result = parseClientFrame(JSON.stringify(frame));
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(result.frame, expected);
  }
});
