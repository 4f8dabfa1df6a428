import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DISCONNECT, disconnectForCloseCode, disconnectForErrorCode, disconnectForStatus, type Disconnect } from './disconnect';

const entries: Array<[string, Disconnect]> = Object.entries(DISCONNECT);

test('the catalog says on every transport what the gateway has always sent (docs/protocol.md §8)', () => {
  const signals = Object.fromEntries(entries.map(([name, d]) => [name, `${d.closeCode} ${d.errorCode} ${d.pollStatus} ${d.reconnect}`]));
  assert.deepEqual(signals, {
    unavailable: '1011 unavailable 503 backoff',
    restart: '1012 unavailable 200 backoff',
    shutdown: '1001 unavailable 200 backoff',
    expired: '4001 unauthenticated 401 reauthenticate',
    forbidden: '4003 forbidden 403 never',
    tooSlow: '4008 too_slow 200 backoff',
    rateLimited: '4029 rate_limited 429 backoff',
    resync: '4009 unavailable 503 backoff',
  });
});

test('every entry has a close code of its own, and a reason a close frame can carry', () => {
  const codes = entries.map(([, d]) => d.closeCode);
  assert.equal(new Set(codes).size, codes.length, `close codes ${codes.join(', ')}`);
  for (const [name, d] of entries) {
    assert.ok(d.closeCode === 1001 || d.closeCode === 1011 || d.closeCode === 1012 || (d.closeCode >= 4000 && d.closeCode <= 4999), name);
    assert.ok(Buffer.byteLength(d.reason) <= 123, `${name}: a close reason is at most 123 bytes`);
  }
});

test('entries that share an SSE error code or a poll status give the same advice, so the code alone says what to do', () => {
  for (const [name, d] of entries) {
    for (const [otherName, other] of entries) {
      if (d.errorCode === other.errorCode) assert.equal(d.reconnect, other.reconnect, `${name} and ${otherName} end SSE alike`);
      if (d.pollStatus === other.pollStatus && d.pollStatus !== 200) assert.equal(d.reconnect, other.reconnect, `${name} and ${otherName} answer a poll alike`);
    }
  }
});

test('what each entry sends decodes back to it, or to an entry of the same advice, on each transport', () => {
  for (const [name, d] of entries) {
    assert.equal(disconnectForCloseCode(d.closeCode), d, `${name} over WebSocket`);
    assert.equal(disconnectForErrorCode(d.errorCode)?.reconnect, d.reconnect, `${name} over SSE`);
    if (d.pollStatus !== 200) assert.equal(disconnectForStatus(d.pollStatus)?.reconnect, d.reconnect, `${name} over long poll`);
  }
  // Where the signal is its entry's alone, it is that entry.
  assert.equal(disconnectForErrorCode('unauthenticated'), DISCONNECT.expired);
  assert.equal(disconnectForErrorCode('too_slow'), DISCONNECT.tooSlow);
  assert.equal(disconnectForStatus(403), DISCONNECT.forbidden);
});

test('what is not in the catalog is no disconnect: a poll answer, a dropped socket, a code nobody sends', () => {
  assert.equal(disconnectForStatus(200), undefined);
  assert.equal(disconnectForStatus(500), undefined);
  assert.equal(disconnectForCloseCode(1000), undefined);
  assert.equal(disconnectForCloseCode(1006), undefined);
  assert.equal(disconnectForErrorCode('internal'), undefined);
});
