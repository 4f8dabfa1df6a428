// Property tests of every decoder and validator of what clients send: whatever the input, it decodes or gives the
// typed error, nothing else is thrown, and every value that decodes encodes again. Inputs are generated the way an
// attacker would write them: valid-looking JSON with hostile strings (NULs, controls, lone surrogates, huge texts)
// and hostile numbers (past 2^53, negative, fractional, 1e300), not only random bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { CursorError, decodeCursor, encodeCursor, MAX_CURSOR_ROOMS } from './cursor';
import { parseClientFrame } from './frames';
import { isClientMsgId, MAX_SAFE_SEQ } from './limits';
import { CreateRoomBody, EditMessageBody, HistoryQuery, LoginBody, ReadBody, SendMessageBody, StreamQuery } from './schemas';
import { checkDisplayName, checkMessageText, isWellFormed, sanitizeDisplayName } from './text';

const RUNS = { numRuns: 2_000 };

/** Strings of the kinds that hurt: lone surrogates, NUL and other controls, emoji, long runs; and plain ones. */
export const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: fc.constantFrom('\u0000', '\ud800', '\udfff', '\u0007', '\u009f', '\u2028', '\ufeff', 'a', ' ', '😀', '\n'), maxLength: 40 }),
  fc.string({ maxLength: 20 }),
  fc.constantFrom('', ' ', 'delete 1', 'delete:1', '0'.repeat(65), 'x'.repeat(5_000), '__proto__', 'constructor'),
);
/** Numbers of the kinds that hurt: past 2^53, negative, fractional, huge, and ordinary ones. */
export const hostileNumber = fc.oneof(
  fc.integer(),
  fc.constantFrom(0, -1, 2 ** 53, 2 ** 53 + 2, 2 ** 63, 1e300, -1e300, 0.5, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER),
  fc.double({ noNaN: true }),
);
const uuid = fc.uuid();
const hostileValue = fc.oneof(hostileString, hostileNumber, uuid, fc.boolean(), fc.constant(null), fc.array(fc.oneof(uuid, hostileString), { maxLength: 5 }));

test('a client frame either parses to a frame whose strings are clean, or gives an invalid_input error frame; nothing throws', () => {
  const frameLike = fc.record(
    {
      type: fc.oneof(fc.constantFrom('send', 'edit', 'delete', 'subscribe', 'unsubscribe', 'typing', 'ping'), hostileString),
      room: fc.oneof(uuid, hostileValue),
      rooms: fc.oneof(fc.array(uuid, { maxLength: 3 }), hostileValue),
      clientMsgId: fc.oneof(fc.uuid(), hostileValue),
      text: fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), hostileValue),
      target: fc.oneof(fc.integer({ min: 1 }), hostileValue),
    },
    { requiredKeys: ['type'] },
  );
  const raw = fc.oneof(frameLike.map((frame) => JSON.stringify(frame)), fc.string({ unit: 'binary', maxLength: 100 }), fc.json());
  fc.assert(
    fc.property(raw, (input) => {
      const result = parseClientFrame(input);
      if (!result.ok) {
        assert.equal(result.error.code, 'invalid_input');
        assert.doesNotThrow(() => JSON.stringify(result.error));
        return;
      }
      const frame = result.frame;
      if ('clientMsgId' in frame) assert.ok(isClientMsgId(frame.clientMsgId), `clientMsgId ${JSON.stringify(frame.clientMsgId)}`);
      if ('text' in frame) assert.equal(checkMessageText(frame.text), null);
      if ('target' in frame) assert.ok(Number.isSafeInteger(frame.target) && frame.target >= 1);
    }),
    RUNS,
  );
});

test('a cursor either decodes to at most the documented rooms with safe seqs, which encode again, or gives CursorError', () => {
  const varint = (n: bigint) => {
    const bytes: number[] = [];
    do {
      bytes.push(Number(n & 0x7fn) | (n >= 0x80n ? 0x80 : 0));
      n >>= 7n;
    } while (n > 0n);
    return bytes;
  };
  const forged = fc
    .array(fc.tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.bigInt({ min: 0n, max: 2n ** 70n })), { maxLength: 4 })
    .map((rooms) => Buffer.from([1, ...rooms.flatMap(([id, seq]) => [...id, ...varint(seq)])]).toString('base64url'));
  const input = fc.oneof(forged, fc.string({ maxLength: 60 }), fc.base64String().map((s) => s.replaceAll('+', '-').replaceAll('/', '_').replaceAll('=', '')));
  fc.assert(
    fc.property(input, (cursor) => {
      let positions: Map<string, number>;
      try {
        positions = decodeCursor(cursor);
      } catch (error) {
        assert.ok(error instanceof CursorError, `threw ${String(error)}`);
        return;
      }
      assert.ok(positions.size <= MAX_CURSOR_ROOMS);
      for (const seq of positions.values()) assert.ok(Number.isSafeInteger(seq) && seq >= 0 && seq <= MAX_SAFE_SEQ);
      assert.deepEqual(decodeCursor(encodeCursor(positions)), positions);
    }),
    RUNS,
  );
});

test('the cursor of a seq of 2^53 or more is refused, not decoded into a number that will not encode again', () => {
  const room = Buffer.alloc(16, 7);
  for (const seq of [2n ** 53n, 2n ** 53n + 1n, 2n ** 56n, 2n ** 63n]) {
    const bytes: number[] = [];
    for (let n = seq; ; n >>= 7n) {
      if (n < 0x80n) {
        bytes.push(Number(n));
        break;
      }
      bytes.push(Number(n & 0x7fn) | 0x80);
    }
    const cursor = Buffer.from([1, ...room, ...bytes]).toString('base64url');
    assert.throws(() => decodeCursor(cursor), CursorError, `seq ${seq}`);
  }
  const safe = Buffer.from([1, ...room, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]).toString('base64url');
  assert.equal([...decodeCursor(safe).values()][0], Number.MAX_SAFE_INTEGER);
});

test('request bodies and query strings either match their schema, with every integer safe and every id clean, or are refused', () => {
  const schemas = { LoginBody, CreateRoomBody, SendMessageBody, EditMessageBody, ReadBody, HistoryQuery, StreamQuery };
  const checks = Object.entries(schemas).map(([name, schema]) => [name, TypeCompiler.Compile(schema)] as const);
  const body = fc.dictionary(fc.constantFrom('username', 'name', 'clientMsgId', 'text', 'seq', 'after', 'before', 'limit', 'rooms', 'cursor', 'timeout', 'extra'), hostileValue, { maxKeys: 4 });
  fc.assert(
    fc.property(body, (value) => {
      for (const [name, check] of checks) {
        let ok = false;
        assert.doesNotThrow(() => (ok = check.Check(value)), name);
        if (!ok) continue;
        for (const [key, field] of Object.entries(value)) {
          if (typeof field === 'number') assert.ok(Number.isSafeInteger(field), `${name}.${key} = ${field}`);
          if (key === 'clientMsgId') assert.ok(isClientMsgId(field as string), `${name}.clientMsgId`);
        }
      }
    }),
    RUNS,
  );
});

test('a display name from a token is made clean or empty, never left with controls or lone surrogates, and stays clean', () => {
  fc.assert(
    fc.property(hostileString, (name) => {
      const clean = sanitizeDisplayName(name);
      assert.ok(isWellFormed(clean));
      assert.ok([...clean].length <= 64);
      // eslint-disable-next-line no-control-regex -- the controls are what is checked for
      assert.doesNotMatch(clean, /[\u0000-\u001f\u007f-\u009f]/);
      assert.equal(sanitizeDisplayName(clean), clean);
      if (clean !== '') assert.equal(checkDisplayName(clean), null);
    }),
    RUNS,
  );
});

test('clientMsgIds are exactly 1-64 printable ASCII characters without the space: what two inputs store as, they are', () => {
  fc.assert(
    fc.property(hostileString, (id) => {
      const expected = id.length >= 1 && id.length <= 64 && [...id].every((c) => c >= '!' && c <= '~');
      assert.equal(isClientMsgId(id), expected);
      if (expected) assert.equal(Buffer.from(id, 'utf8').toString('utf8'), id, 'round-trips through UTF-8 as itself');
    }),
    RUNS,
  );
});
