// Every record decoder of the platform's topics, fed what a misbehaving or hostile producer could write: it returns a
// record or null, and never throws (one bad record must never stall a consumer).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeHeartbeat, decodePresence } from './presence-records';
import { decodeFeedRecord, decodeSendCommand } from './records';

const hostile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('\u0000', '\ud800', 'x'.repeat(5000), ''),
  fc.integer(),
  fc.constantFrom(2 ** 53, 1e300, -1, 0.5),
  fc.boolean(),
  fc.constant(null),
  fc.uuid(),
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
);
const recordLike = fc.record(
  {
    v: fc.oneof(fc.constant(1), hostile),
    type: fc.oneof(fc.constantFrom('message', 'message_edited', 'member_joined', 'member_left', 'typing'), hostile),
    kind: fc.oneof(fc.constantFrom('message', 'message_edited', 'message_deleted'), hostile),
    room: hostile,
    clientMsgId: hostile,
    text: hostile,
    target: hostile,
    seq: hostile,
    lastSeq: hostile,
    userId: hostile,
    acceptedAt: hostile,
    sender: fc.record({ id: hostile, name: hostile }, { requiredKeys: [] }),
    user: fc.record({ id: hostile, name: hostile }, { requiredKeys: [] }),
    gateway: hostile,
    connections: hostile,
    ttlMs: hostile,
    status: fc.oneof(fc.constantFrom('online', 'offline'), hostile),
  },
  { requiredKeys: [] },
);
const value = fc.oneof(
  recordLike.map((record) => Buffer.from(JSON.stringify(record))),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
  fc.json().map((json) => Buffer.from(json)),
  fc.constant(null),
);

test('every topic decoder returns a record or null for any bytes, and never throws', () => {
  fc.assert(
    fc.property(value, (bytes) => {
      for (const decode of [decodeSendCommand, decodeFeedRecord, decodeHeartbeat, decodePresence]) {
        assert.doesNotThrow(() => decode(bytes), decode.name);
      }
      const command = decodeSendCommand(bytes);
      if (command && command.kind !== undefined && command.kind !== 'message') assert.ok(Number.isSafeInteger(command.target) && command.target! > 0);
      const feed = decodeFeedRecord(bytes);
      if (feed?.kind === 'entry') assert.ok(Number.isSafeInteger(feed.seq));
      if (feed?.kind === 'entry' && feed.type.startsWith('member_')) assert.equal(typeof feed.userId, 'string');
    }),
    { numRuns: 3_000 },
  );
});
