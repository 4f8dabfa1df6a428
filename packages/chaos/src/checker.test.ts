import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check, type AnomalyClass, type AnomalyIds, type CheckOptions } from './checker';
import { parseJsonLines, toJsonLines } from './history';
import { Scenario, type Sender } from './scenario';

const alice: Sender = { client: 'alice-ws', user: 'alice', connection: 'a1' };
const aliceHttp: Sender = { client: 'alice-http', user: 'alice' };

/** bob (receiver) and carol are members of r1 with alice; bob's stream is open from seq 0. */
function withBobListening(): Scenario {
  return new Scenario().room('r1', ['alice', 'bob', 'carol']).open('bob', 'bob', 'b1', { rooms: ['r1'] }).positions('bob', 'b1', { r1: 0 });
}

type Expected = Array<{ class: AnomalyClass; ids: AnomalyIds }>;

function anomaliesOf(scenario: Scenario, options: Partial<CheckOptions> = {}): Expected {
  return check(scenario.ops, scenario.state(), options).anomalies.map((anomaly) => ({ class: anomaly.class, ids: anomaly.ids }));
}

/** The faulty history reports exactly these anomalies, and the clean one of the same shape none. */
function assertFinds(build: (faulty: boolean) => Scenario, expected: Expected, options: Partial<CheckOptions> = {}): void {
  assert.deepEqual(anomaliesOf(build(false), options), [], 'the clean history reports nothing');
  assert.deepEqual(anomaliesOf(build(true), options), expected);
}

test('a clean run with sends, a drop, a resume and a settled end reports no anomaly and counts what happened', () => {
  const s = withBobListening().open('alice-ws', 'alice', 'a1', { rooms: ['r1'] }).positions('alice-ws', 'a1', { r1: 0 });
  s.message(alice, 'r1', 'm1');
  s.deliver('bob', 'b1', 'r1', 1).deliver('alice-ws', 'a1', 'r1', 1);
  s.message(alice, 'r1', 'm2');
  s.deliver('bob', 'b1', 'r1', 2).deliver('alice-ws', 'a1', 'r1', 2);
  s.fault('f1', 'inject').close('bob', 'b1');
  s.message(aliceHttp, 'r1', 'm3');
  s.deliver('alice-ws', 'a1', 'r1', 3);
  s.invoke(aliceHttp, 'r1', 'too-long', 'x'.repeat(5000)).outcome(aliceHttp, 'r1', 'too-long', 'refused', { code: 'invalid_input' });
  s.invoke(aliceHttp, 'r1', 'm4', 'four').outcome(aliceHttp, 'r1', 'm4', 'indeterminate', { code: 'timeout' });
  s.store('r1', { clientMsgId: 'm4', senderId: 'alice', text: 'four' });
  s.deliver('alice-ws', 'a1', 'r1', 4);
  s.invoke(aliceHttp, 'r1', 'm4', 'four', { attempt: 2 }).outcome(aliceHttp, 'r1', 'm4', 'ack', { attempt: 2 });
  s.wait(500).fault('f1', 'heal').open('bob', 'bob', 'b2', { rooms: ['r1'], from: { r1: 2 } }).positions('bob', 'b2', { r1: 2 });
  s.deliver('bob', 'b2', 'r1', 3).deliver('bob', 'b2', 'r1', 4);
  s.lag('messaging', 0).sample('gateway-0', 100e6).sample('gateway-0', 120e6).exit('gateway-1', true);
  s.settled();

  const report = check(s.ops, s.state());
  assert.deepEqual(report.anomalies, []);
  assert.deepEqual(report.anomalyCounts, {});
  assert.deepEqual(report.counts, {
    sends: 5,
    attempts: 6,
    acked: 4,
    refused: 1,
    indeterminate: 0,
    storedRows: 4,
    deliveries: 8,
    receivers: 2,
    connections: 3,
    faultsInjected: 1,
    faultsHealed: 1,
  });
  assert.equal(report.settledAt, s.ops.find((op) => op.op === 'settled')!.t);
  // m3 and m4 were acked while bob was cut off: delivered just after the heal.
  assert.ok(report.longestHealMs !== undefined && report.longestHealMs > 0 && report.longestHealMs < 10);
  assert.deepEqual(report.processes, [
    { process: 'gateway-0', pid: 4242, samples: 2, startRssBytes: 100e6, endRssBytes: 120e6, maxRssBytes: 120e6, startOpenFiles: 40, endOpenFiles: 40 },
  ]);
});

test('the history round-trips through JSON Lines, and a line that is not an operation is an error naming it', () => {
  const s = withBobListening();
  s.message(alice, 'r1', 'm1');
  s.deliver('bob', 'b1', 'r1', 1);
  assert.deepEqual(parseJsonLines(toJsonLines(s.ops)), s.ops);
  assert.throws(() => parseJsonLines(`${toJsonLines(s.ops)}{"op":"nope","t":1}\n`), /line 6 is not an operation/);
  assert.throws(() => parseJsonLines('{"op":"settled","t":1}\n{oops\n'), /line 2 is not JSON/);
});

test('acked-lost: an acknowledged message that is not stored', () => {
  assertFinds(
    (faulty) => {
      const s = new Scenario().room('r1', ['alice']);
      s.invoke(alice, 'r1', 'm1', 'hello');
      if (!faulty) s.store('r1', { clientMsgId: 'm1', senderId: 'alice', text: 'hello' });
      return s.outcome(alice, 'r1', 'm1', 'ack');
    },
    [{ class: 'acked-lost', ids: { room: 'r1', user: 'alice', client: 'alice-ws', clientMsgId: 'm1' } }],
  );
});

test('stored-twice: one clientMsgId of one user stored at two seqs', () => {
  assertFinds(
    (faulty) => {
      const s = new Scenario().room('r1', ['alice']);
      s.message(alice, 'r1', 'm1', 'hello');
      if (faulty) s.store('r1', { clientMsgId: 'm1', senderId: 'alice', text: 'hello' });
      else s.message(alice, 'r1', 'm2', 'hello');
      return s;
    },
    [{ class: 'stored-twice', ids: { room: 'r1', user: 'alice', clientMsgId: 'm1', seq: 2, earlierSeq: 1 } }],
  );
});

test('text-mismatch: an acked message stored with another text, or an edit not applied to its target', () => {
  assertFinds(
    (faulty) => {
      const s = new Scenario().room('r1', ['alice']);
      s.invoke(alice, 'r1', 'm1', 'hello');
      s.store('r1', { clientMsgId: 'm1', senderId: 'alice', text: faulty ? 'hellO' : 'hello' });
      return s.outcome(alice, 'r1', 'm1', 'ack');
    },
    [{ class: 'text-mismatch', ids: { room: 'r1', user: 'alice', client: 'alice-ws', clientMsgId: 'm1', seq: 1 } }],
  );
  assertFinds(
    (faulty) => {
      const s = new Scenario().room('r1', ['alice']);
      const m1 = s.message(alice, 'r1', 'm1', 'first');
      s.invoke(alice, 'r1', 'e1', 'second', { kind: 'message_edited', target: 1 });
      s.store('r1', { clientMsgId: 'e1', senderId: 'alice', text: 'second', kind: 'message_edited', target: 1 });
      s.outcome(alice, 'r1', 'e1', 'ack');
      m1.edited = true;
      m1.text = faulty ? 'first' : 'second';
      return s;
    },
    [{ class: 'text-mismatch', ids: { room: 'r1', user: 'alice', client: 'alice-ws', clientMsgId: 'm1', seq: 1 } }],
  );
});

test('refused-stored: a message refused on every attempt that is stored anyway; indeterminate ones may go either way', () => {
  assertFinds(
    (faulty) => {
      const s = new Scenario().room('r1', ['alice']);
      s.invoke(aliceHttp, 'r1', 'm1', 'hello').outcome(aliceHttp, 'r1', 'm1', 'refused', { code: 'forbidden' });
      if (faulty) s.store('r1', { clientMsgId: 'm1', senderId: 'alice', text: 'hello' });
      s.invoke(aliceHttp, 'r1', 'kept', 'k').outcome(aliceHttp, 'r1', 'kept', 'indeterminate', { code: '503' });
      s.store('r1', { clientMsgId: 'kept', senderId: 'alice', text: 'k' });
      s.invoke(aliceHttp, 'r1', 'gone', 'g').outcome(aliceHttp, 'r1', 'gone', 'indeterminate', { code: 'timeout' });
      // Refused on a retry, but the first attempt may have been stored: indeterminate, not refused.
      s.invoke(aliceHttp, 'r1', 'retried', 'r').outcome(aliceHttp, 'r1', 'retried', 'indeterminate', { code: 'closed' });
      s.store('r1', { clientMsgId: 'retried', senderId: 'alice', text: 'r' });
      s.invoke(aliceHttp, 'r1', 'retried', 'r', { attempt: 2 }).outcome(aliceHttp, 'r1', 'retried', 'refused', { attempt: 2, code: 'rate_limited' });
      return s;
    },
    [{ class: 'refused-stored', ids: { room: 'r1', user: 'alice', client: 'alice-http', clientMsgId: 'm1', seq: 1 } }],
  );
});

test("log-gap: a seq missing inside a room's log, or its counter past the last entry", () => {
  assertFinds(
    (faulty) => {
      const s = new Scenario().room('r1', ['alice']);
      s.message(alice, 'r1', 'm1');
      s.invoke(alice, 'r1', 'm2', 'two');
      s.store('r1', { clientMsgId: 'm2', senderId: 'alice', text: 'two', seq: faulty ? 4 : 2 });
      return s.outcome(alice, 'r1', 'm2', 'ack');
    },
    [{ class: 'log-gap', ids: { room: 'r1', seq: 2, toSeq: 3 } }],
  );
  assertFinds(
    (faulty) => {
      const s = new Scenario().room('r1', ['alice']);
      s.message(alice, 'r1', 'm1');
      return faulty ? s.lastSeq('r1', 2) : s;
    },
    [{ class: 'log-gap', ids: { room: 'r1', seq: 2, toSeq: 2 } }],
  );
});

test('log-duplicate-seq: two entries at one seq of a room', () => {
  assertFinds(
    (faulty) => {
      const s = new Scenario().room('r1', ['alice']);
      s.message(alice, 'r1', 'm1');
      s.invoke(aliceHttp, 'r1', 'm2', 'two');
      s.store('r1', { clientMsgId: 'm2', senderId: 'alice', text: 'two', seq: faulty ? 1 : 2 });
      return s.outcome(aliceHttp, 'r1', 'm2', 'ack');
    },
    [{ class: 'log-duplicate-seq', ids: { room: 'r1', seq: 1 } }],
  );
});

test('sender-reorder: a sequential sender whose later message is stored before one acked earlier', () => {
  assertFinds(
    (faulty) => {
      const s = new Scenario().room('r1', ['alice']);
      s.invoke(alice, 'r1', 'm1', 'one').outcome(alice, 'r1', 'm1', 'ack');
      s.invoke(alice, 'r1', 'm2', 'two').outcome(alice, 'r1', 'm2', 'ack');
      s.store('r1', { clientMsgId: faulty ? 'm2' : 'm1', senderId: 'alice', text: faulty ? 'two' : 'one' });
      s.store('r1', { clientMsgId: faulty ? 'm1' : 'm2', senderId: 'alice', text: faulty ? 'one' : 'two' });
      // Overlapping sends order nothing, nor does an indeterminate one stored after its successor.
      const piped: Sender = { client: 'piper', user: 'alice', connection: 'p1', sequential: false };
      s.invoke(piped, 'r1', 'p1', 'p').invoke(piped, 'r1', 'p2', 'p').outcome(piped, 'r1', 'p2', 'ack').outcome(piped, 'r1', 'p1', 'ack');
      s.store('r1', { clientMsgId: 'p2', senderId: 'alice', text: 'p' });
      s.store('r1', { clientMsgId: 'p1', senderId: 'alice', text: 'p' });
      s.invoke(alice, 'r1', 'slow', 's').outcome(alice, 'r1', 'slow', 'indeterminate', { code: 'timeout' });
      s.invoke(alice, 'r1', 'm3', 'three').outcome(alice, 'r1', 'm3', 'ack');
      s.store('r1', { clientMsgId: 'm3', senderId: 'alice', text: 'three' });
      s.store('r1', { clientMsgId: 'slow', senderId: 'alice', text: 's' });
      return s.invoke(alice, 'r1', 'slow', 's', { attempt: 2 }).outcome(alice, 'r1', 'slow', 'ack', { attempt: 2 });
    },
    [{ class: 'sender-reorder', ids: { room: 'r1', client: 'alice-ws', clientMsgId: 'm2', seq: 1, earlierClientMsgId: 'm1', earlierSeq: 2 } }],
  );
});

test('delivered-twice: an entry a resumed stream sends again although the cursor covered it', () => {
  assertFinds(
    (faulty) => {
      const s = withBobListening();
      s.message(alice, 'r1', 'm1');
      s.message(alice, 'r1', 'm2');
      s.deliver('bob', 'b1', 'r1', 1).deliver('bob', 'b1', 'r1', 2).close('bob', 'b1');
      s.message(alice, 'r1', 'm3');
      s.open('bob', 'bob', 'b2', { rooms: ['r1'], from: { r1: 2 } });
      if (faulty) s.deliver('bob', 'b2', 'r1', 2);
      return s.deliver('bob', 'b2', 'r1', 3);
    },
    [{ class: 'delivered-twice', ids: { client: 'bob', connection: 'b2', room: 'r1', seq: 2, clientMsgId: 'm2' } }],
  );
});

test('delivered-twice: the same entry twice on one connection', () => {
  assertFinds(
    (faulty) => {
      const s = withBobListening();
      s.message(alice, 'r1', 'm1');
      s.deliver('bob', 'b1', 'r1', 1);
      return faulty ? s.deliver('bob', 'b1', 'r1', 1) : s;
    },
    [{ class: 'delivered-twice', ids: { client: 'bob', connection: 'b1', room: 'r1', seq: 1, clientMsgId: 'm1' } }],
  );
});

test('delivered-out-of-order: a lower seq after a higher one on a connection', () => {
  assertFinds(
    (faulty) => {
      const s = withBobListening();
      for (const id of ['m1', 'm2', 'm3']) s.message(alice, 'r1', id);
      s.deliver('bob', 'b1', 'r1', 1);
      for (const seq of faulty ? [3, 2] : [2, 3]) s.deliver('bob', 'b1', 'r1', seq);
      return s;
    },
    [{ class: 'delivered-out-of-order', ids: { client: 'bob', connection: 'b1', room: 'r1', seq: 2, clientMsgId: 'm2' } }],
  );
});

test('delivery-mismatch: a delivered entry unlike its stored row', () => {
  assertFinds(
    (faulty) => {
      const s = withBobListening();
      s.message(alice, 'r1', 'm1', 'hello');
      return s.deliver('bob', 'b1', 'r1', 1, faulty ? { text: 'HELLO' } : {});
    },
    [{ class: 'delivery-mismatch', ids: { client: 'bob', connection: 'b1', room: 'r1', seq: 1, clientMsgId: 'm1' } }],
  );
});

test('delivery-mismatch: a message may arrive with its first text or a later edit, but no other', () => {
  assertFinds(
    (faulty) => {
      const s = withBobListening();
      const m1 = s.message(alice, 'r1', 'm1', 'first');
      s.deliver('bob', 'b1', 'r1', 1, { text: 'first' });
      s.invoke(alice, 'r1', 'e1', 'second', { kind: 'message_edited', target: 1 });
      s.store('r1', { clientMsgId: 'e1', senderId: 'alice', text: 'second', kind: 'message_edited', target: 1 });
      s.outcome(alice, 'r1', 'e1', 'ack');
      Object.assign(m1, { edited: true, text: 'second' });
      s.deliver('bob', 'b1', 'r1', 2);
      // A stream that catches up from history reads the row as it is now.
      s.open('carol', 'carol', 'c1', { rooms: ['r1'], from: { r1: 0 }, resume: 'older' });
      return s.deliver('carol', 'c1', 'r1', 1, { text: faulty ? 'third' : 'second' }).deliver('carol', 'c1', 'r1', 2);
    },
    [{ class: 'delivery-mismatch', ids: { client: 'carol', connection: 'c1', room: 'r1', seq: 1, clientMsgId: 'm1' } }],
  );
});

test('phantom-delivery: a delivered entry that is not stored', () => {
  assertFinds(
    (faulty) => {
      const s = withBobListening();
      s.message(alice, 'r1', 'm1');
      s.deliver('bob', 'b1', 'r1', 1);
      return faulty ? s.deliver('bob', 'b1', 'r1', 2, { clientMsgId: 'ghost', text: 'boo', senderId: 'alice' }) : s;
    },
    [{ class: 'phantom-delivery', ids: { client: 'bob', connection: 'b1', room: 'r1', seq: 2, clientMsgId: 'ghost' } }],
  );
});

test('delivery-gap: an entry skipped by a stream, or by a resume from a cursor ahead of what arrived', () => {
  assertFinds(
    (faulty) => {
      const s = withBobListening();
      for (const id of ['m1', 'm2', 'm3']) s.message(alice, 'r1', id);
      for (const seq of faulty ? [1, 3] : [1, 2, 3]) s.deliver('bob', 'b1', 'r1', seq);
      return s;
    },
    [{ class: 'delivery-gap', ids: { client: 'bob', room: 'r1', seq: 2, toSeq: 2 } }],
  );
  assertFinds(
    (faulty) => {
      const s = withBobListening();
      for (const id of ['m1', 'm2', 'm3', 'm4']) s.message(alice, 'r1', id);
      s.deliver('bob', 'b1', 'r1', 1).close('bob', 'b1');
      s.open('bob', 'bob', 'b2', { rooms: ['r1'], from: { r1: 1 } }).positions('bob', 'b2', { r1: faulty ? 3 : 1 });
      if (!faulty) s.deliver('bob', 'b2', 'r1', 2).deliver('bob', 'b2', 'r1', 3);
      return s.deliver('bob', 'b2', 'r1', 4);
    },
    [{ class: 'delivery-gap', ids: { client: 'bob', room: 'r1', seq: 2, toSeq: 3 } }],
  );
});

test('delivery-gap: after a join, a message sent a bound later is owed even below the first one that arrived', () => {
  assertFinds(
    (faulty) => {
      const s = new Scenario().room('r1', ['alice']).open('bob', 'bob', 'b1', { rooms: null }).positions('bob', 'b1', {});
      // Sent around the join: owed or not, either is right.
      s.message(alice, 'r1', 'm1');
      s.membership('bob', 'r1', 'join');
      s.message(alice, 'r1', 'm2');
      s.wait(6_000).message(alice, 'r1', 'm3');
      s.message(alice, 'r1', 'm4');
      if (!faulty) s.deliver('bob', 'b1', 'r1', 3);
      return s.deliver('bob', 'b1', 'r1', 4);
    },
    [{ class: 'delivery-gap', ids: { client: 'bob', room: 'r1', seq: 3, toSeq: 3 } }],
    { membershipBoundMs: 5_000 },
  );
});

test('delivery-gap: a long poll whose answer cursor runs ahead of the events it came with', () => {
  assertFinds(
    (faulty) => {
      const s = new Scenario().room('r1', ['alice', 'dave']).open('dave', 'dave', 'p1', { transport: 'poll', rooms: ['r1'] });
      s.positions('dave', 'p1', { r1: 0 });
      for (const id of ['m1', 'm2', 'm3']) s.message(alice, 'r1', id);
      s.deliver('dave', 'p1', 'r1', 1).positions('dave', 'p1', { r1: faulty ? 3 : 1 });
      if (!faulty) s.deliver('dave', 'p1', 'r1', 2).deliver('dave', 'p1', 'r1', 3).positions('dave', 'p1', { r1: 3 });
      return s;
    },
    [{ class: 'delivery-gap', ids: { client: 'dave', room: 'r1', seq: 2, toSeq: 3 } }],
  );
});

test('delivered-after-leave: entries still reaching a user past the bound after it left the room', () => {
  assertFinds(
    (faulty) => {
      const s = withBobListening();
      s.message(alice, 'r1', 'm1');
      s.deliver('bob', 'b1', 'r1', 1);
      s.message(alice, 'r1', 'm2');
      s.membership('bob', 'r1', 'leave');
      // In flight when the leave was answered: allowed within the bound.
      s.wait(100).deliver('bob', 'b1', 'r1', 2);
      s.message(alice, 'r1', 'm3');
      return faulty ? s.wait(6_000).deliver('bob', 'b1', 'r1', 3) : s;
    },
    [{ class: 'delivered-after-leave', ids: { client: 'bob', connection: 'b1', room: 'r1', seq: 3, clientMsgId: 'm3' } }],
    { membershipBoundMs: 5_000 },
  );
});

test('not-delivered: a receiver open at the end missing the tail of a room', () => {
  assertFinds(
    (faulty) => {
      const s = withBobListening();
      for (const id of ['m1', 'm2', 'm3']) s.message(alice, 'r1', id);
      s.deliver('bob', 'b1', 'r1', 1).deliver('bob', 'b1', 'r1', 2);
      if (!faulty) s.deliver('bob', 'b1', 'r1', 3);
      return s.settled();
    },
    [{ class: 'not-delivered', ids: { client: 'bob', room: 'r1', seq: 3, toSeq: 3 } }],
  );
});

test('not-delivered: an acked message delivered only past the bound after the heal', () => {
  const build = (faulty: boolean) => {
    const s = withBobListening().fault('f1', 'inject', 'blackhole', 'gateway-0');
    s.message(alice, 'r1', 'm1');
    s.wait(3_000).fault('f1', 'heal', 'blackhole', 'gateway-0');
    s.wait(faulty ? 10_500 : 2_000).deliver('bob', 'b1', 'r1', 1);
    return s.settled();
  };
  assertFinds(build, [{ class: 'not-delivered', ids: { client: 'bob', room: 'r1', seq: 1, clientMsgId: 'm1' } }], { healBoundMs: 10_000 });
  assert.equal(check(build(false).ops, build(false).state()).longestHealMs, 2_001);
});

test('not-delivered: a receiver subscribed to a room it joined that got nothing sent there after the join', () => {
  assertFinds(
    (faulty) => {
      const s = new Scenario().room('r1', ['alice']).open('bob', 'bob', 'b1', { rooms: null }).positions('bob', 'b1', {});
      s.membership('bob', 'r1', 'join');
      s.wait(6_000).message(alice, 'r1', 'm1');
      if (!faulty) s.deliver('bob', 'b1', 'r1', 1);
      return s.settled();
    },
    [{ class: 'not-delivered', ids: { client: 'bob', room: 'r1', clientMsgId: 'm1', seq: 1 } }],
    { membershipBoundMs: 5_000 },
  );
});

test('client-not-open: a client the suite did not stop has no open connection when the run settles', () => {
  assertFinds(
    (faulty) => {
      const s = withBobListening().open('carol', 'carol', 'c1', { rooms: ['r1'] }).positions('carol', 'c1', { r1: 0 });
      s.close('bob', 'b1', 'reset');
      if (!faulty) s.open('bob', 'bob', 'b2', { rooms: ['r1'], from: { r1: 0 } });
      // Stopped by the suite: not owed an open connection.
      s.close('carol', 'c1', 'stopped').stopped('carol');
      return s.settled();
    },
    [{ class: 'client-not-open', ids: { client: 'bob', connection: 'b1' } }],
  );
});

test('lag-not-zero: consumer lag not back to 0 within the bound of a heal, or not 0 once settled', () => {
  assertFinds(
    (faulty) => {
      const s = new Scenario().fault('f1', 'inject', 'pause', 'messaging-0').wait(1_000).fault('f1', 'heal', 'pause', 'messaging-0');
      s.lag('messaging', 40).wait(2_000).lag('messaging', faulty ? 3 : 0).wait(30_000).lag('messaging', 0);
      return s.settled().lag('messaging', 0);
    },
    [{ class: 'lag-not-zero', ids: { consumer: 'messaging' } }],
    { lagBoundMs: 30_000 },
  );
  assertFinds(
    (faulty) => new Scenario().lag('messaging', 7).settled().lag('messaging', faulty ? 2 : 0),
    [{ class: 'lag-not-zero', ids: { consumer: 'messaging' } }],
  );
  // A fault that starts within the bound of a heal may hold the lag up: the heal at the end of that run is judged.
  assertFinds(
    (faulty) => {
      const s = new Scenario().fault('f1', 'inject', 'pause', 'messaging-0').wait(1_000).fault('f1', 'heal', 'pause', 'messaging-0');
      s.lag('messaging', 40).wait(5_000).fault('f2', 'inject', 'kill', 'messaging-1').lag('messaging', 90).wait(20_000);
      s.fault('f2', 'heal', 'kill', 'messaging-1').lag('messaging', 90).wait(10_000).lag('messaging', 60);
      s.wait(15_000).lag('messaging', faulty ? 60 : 0).wait(10_000).lag('messaging', 0);
      return s.settled().lag('messaging', 0);
    },
    [{ class: 'lag-not-zero', ids: { consumer: 'messaging' } }],
    { lagBoundMs: 30_000 },
  );
});

test('unexpected-exit: a process exit the suite did not cause', () => {
  assertFinds((faulty) => new Scenario().exit('messaging-1', !faulty, 777), [{ class: 'unexpected-exit', ids: { process: 'messaging-1', pid: 777 } }]);
});

test('rss-unbounded: RSS growing past the factor over its baseline, or past the absolute bound', () => {
  assertFinds(
    (faulty) => new Scenario().sample('gateway-0', 100e6).sample('gateway-0', 150e6).sample('gateway-0', faulty ? 210e6 : 190e6),
    [{ class: 'rss-unbounded', ids: { process: 'gateway-0', pid: 4242 } }],
    { rssGrowthFactor: 2 },
  );
  assertFinds(
    (faulty) => new Scenario().sample('gateway-0', 100e6).sample('gateway-0', faulty ? 600e6 : 400e6).sample('gateway-0', 150e6),
    [{ class: 'rss-unbounded', ids: { process: 'gateway-0', pid: 4242 } }],
    { rssGrowthFactor: 2, rssMaxBytes: 500e6 },
  );
  // A restarted process (a new pid) starts a baseline of its own.
  assert.deepEqual(anomaliesOf(new Scenario().sample('gateway-0', 300e6, 1).sample('gateway-0', 100e6, 2).sample('gateway-0', 150e6, 2)), []);
  // A process with a limit of its own (a broker's JVM filling its heap) is judged against it, not against its growth.
  assertFinds(
    (faulty) => new Scenario().sample('broker-1', 200e6, 7, 600e6).sample('broker-1', 420e6, 7, 600e6).sample('broker-1', faulty ? 610e6 : 590e6, 7, 600e6),
    [{ class: 'rss-unbounded', ids: { process: 'broker-1', pid: 7 } }],
    { rssGrowthFactor: 2 },
  );
});

test('a receiver resuming from an older cursor on purpose gets the entries after it again, and that is no repeat', () => {
  const s = withBobListening();
  for (const id of ['m1', 'm2', 'm3']) s.message(alice, 'r1', id);
  for (const seq of [1, 2, 3]) s.deliver('bob', 'b1', 'r1', seq);
  s.close('bob', 'b1').open('bob', 'bob', 'b2', { rooms: ['r1'], from: { r1: 1 }, resume: 'older' });
  s.deliver('bob', 'b2', 'r1', 2).deliver('bob', 'b2', 'r1', 3);
  assert.deepEqual(anomaliesOf(s.settled()), []);
  // The same cursor handed back as "the last one seen": the server's cursors lagged behind what they delivered.
  const lagging = withBobListening();
  for (const id of ['m1', 'm2']) lagging.message(alice, 'r1', id);
  lagging.deliver('bob', 'b1', 'r1', 1).deliver('bob', 'b1', 'r1', 2).close('bob', 'b1');
  lagging.open('bob', 'bob', 'b2', { rooms: ['r1'], from: { r1: 1 } }).deliver('bob', 'b2', 'r1', 2);
  assert.deepEqual(anomaliesOf(lagging), [{ class: 'delivered-twice', ids: { client: 'bob', connection: 'b2', room: 'r1', seq: 2, clientMsgId: 'm2' } }]);
});

test('a receiver owes nothing of a room between leaving it and joining it again, nor before a fresh start without a cursor', () => {
  const s = withBobListening();
  s.message(alice, 'r1', 'm1');
  s.deliver('bob', 'b1', 'r1', 1);
  s.membership('bob', 'r1', 'leave');
  s.message(alice, 'r1', 'm2');
  s.membership('bob', 'r1', 'join');
  s.message(alice, 'r1', 'm3');
  s.deliver('bob', 'b1', 'r1', 3).close('bob', 'b1');
  s.message(alice, 'r1', 'm4');
  s.open('bob', 'bob', 'b2', { rooms: ['r1'] }).positions('bob', 'b2', { r1: 4 });
  s.message(alice, 'r1', 'm5');
  s.deliver('bob', 'b2', 'r1', 5);
  assert.deepEqual(anomaliesOf(s.settled()), []);
});

test('a long poll whose first answer holds events starts each room just before its first event', () => {
  const s = new Scenario().room('r1', ['alice', 'dave']).room('r2', ['alice', 'dave']);
  s.message(alice, 'r1', 'm1');
  s.message(alice, 'r1', 'm2');
  s.open('dave', 'dave', 'p1', { transport: 'poll', rooms: ['r1', 'r2'] });
  s.deliver('dave', 'p1', 'r1', 2).positions('dave', 'p1', { r1: 2, r2: 0 });
  s.message(alice, 'r2', 'n1');
  s.deliver('dave', 'p1', 'r2', 1);
  assert.deepEqual(anomaliesOf(s.settled()), []);
});
