import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser } from './sse-parser';

test('events split across chunks come out whole, comments and retry hints aside', () => {
  const parser = new SseParser();
  assert.deepEqual(parser.feed('retry: 1500\n\n: keep-alive\n\nid: c1\nevent: mess'), []);
  assert.equal(parser.retryMs, 1500);
  assert.deepEqual(parser.feed('age\ndata: {"a":1}\n\nid: c2\r\nevent: typing\r\ndata: x\r\ndata: y\r\n\r\n'), [
    { id: 'c1', event: 'message', data: '{"a":1}' },
    { id: 'c2', event: 'typing', data: 'x\ny' },
  ]);
});
