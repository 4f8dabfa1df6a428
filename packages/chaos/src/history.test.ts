import { test } from 'node:test';
import assert from 'node:assert/strict';
import { History, type FrameReceived } from './history';

const frame: Omit<FrameReceived, 't'> = { op: 'frame', client: 'c', connection: 'c#1', transport: 'websocket', type: 'message', room: 'r', seq: 1, raw: '{"type":"message"}' };

test('a history keeps each frame raw text unless told not to, and its fields either way', () => {
  let now = 0;
  const kept = new History(() => ++now);
  const dropped = new History(() => ++now, { keepRawFrames: false });
  kept.record(frame);
  dropped.record(frame);
  dropped.record({ op: 'settled' });
  assert.equal(kept.ops[0]!.op === 'frame' && kept.ops[0]!.raw, frame.raw);
  assert.deepEqual(dropped.ops[0], { ...frame, raw: '', t: 2 });
  assert.deepEqual(dropped.ops[1], { op: 'settled', t: 3 });
});
