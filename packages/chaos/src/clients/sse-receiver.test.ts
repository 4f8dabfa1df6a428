import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSseBlock } from './sse-receiver';

test('an SSE block gives its id, event and data lines joined; comments and unknown fields are skipped', () => {
  assert.deepEqual(parseSseBlock('id: c1\nevent: message\ndata: {"a":1}'), { id: 'c1', event: 'message', data: '{"a":1}' });
  assert.deepEqual(parseSseBlock(': keep-alive\nretry: 1000\ndata:one\ndata: two'), { id: undefined, event: 'message', data: 'one\ntwo' });
  assert.deepEqual(parseSseBlock('id:c2\nevent:ready\ndata: {"type":"ready"}\nfoo: bar'), { id: 'c2', event: 'ready', data: '{"type":"ready"}' });
});

test('a block of comments alone is no event', () => {
  assert.equal(parseSseBlock(': keep-alive'), undefined);
  assert.equal(parseSseBlock('id: c3'), undefined);
});
