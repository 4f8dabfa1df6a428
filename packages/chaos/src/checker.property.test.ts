import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { check, type AnomalyClass, type CheckOptions } from './checker';
import type { FrameReceived, HistoryOp, StoredState } from './history';
import { Scenario, type Sender } from './scenario';

/**
 * A model of a correct platform drives a Scenario: sends complete in order per sender, get the room's next seq when
 * stored, and reach every receiver subscribed to the room in seq order; receivers drop, resume from their last
 * position (or on purpose from an older one), leave and join rooms. Its histories must check clean, and each single
 * fault planted in one must be found.
 */

type Action =
  | { kind: 'invoke'; sender: number; room: number }
  | { kind: 'complete'; sender: number; result: 'ack' | 'refused' | 'stored-unknown' | 'lost-unknown' }
  | { kind: 'retry'; sender: number }
  | { kind: 'deliver'; receiver: number; count: number }
  | { kind: 'drop'; receiver: number }
  | { kind: 'reconnect'; receiver: number; rewind: number }
  | { kind: 'membership'; receiver: number; room: number }
  | { kind: 'fault' }
  | { kind: 'wait'; ms: number };

const ROOMS = ['r1', 'r2', 'r3'];
const SENDERS: Sender[] = [
  { client: 'alice-ws', user: 'alice', connection: 'alice-ws-1', sequential: true },
  { client: 'bob-pipe', user: 'bob', connection: 'bob-pipe-1', sequential: false },
  { client: 'carol-http', user: 'carol', sequential: true },
];
const RECEIVERS = [
  { client: 'erin-ws', user: 'erin', transport: 'websocket' },
  { client: 'frank-sse', user: 'frank', transport: 'sse' },
  { client: 'gina-poll', user: 'gina', transport: 'poll' },
] as const;

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('invoke' as const), sender: fc.nat(2), room: fc.nat(2) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('complete' as const),
      sender: fc.nat(2),
      result: fc.constantFrom('ack' as const, 'ack' as const, 'ack' as const, 'refused' as const, 'stored-unknown' as const, 'lost-unknown' as const),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('retry' as const), sender: fc.nat(2) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('deliver' as const), receiver: fc.nat(2), count: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), receiver: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reconnect' as const), receiver: fc.nat(2), rewind: fc.constantFrom(0, 0, 0, 1, 3) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('membership' as const), receiver: fc.nat(2), room: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'fault' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 20 }) }) },
);

interface Pending {
  room: string;
  clientMsgId: string;
  text: string;
  attempt: number;
}

interface ReceiverModel {
  client: string;
  user: string;
  transport: 'websocket' | 'sse' | 'poll';
  members: Set<string>;
  /** Last seq delivered (or the starting position) per subscribed room; undefined: joined while away, starts at the next open. */
  position: Map<string, number | undefined>;
  connection: string | undefined;
  connections: number;
}

/** Runs the model over the actions, then settles: every fault healed, every send answered, every receiver caught up. */
function simulate(actions: readonly Action[]): { ops: HistoryOp[]; state: StoredState } {
  const s = new Scenario();
  for (const room of ROOMS) s.room(room, [...SENDERS.map((sender) => sender.user), ...RECEIVERS.map((receiver) => receiver.user)]);
  const log = new Map(ROOMS.map((room) => [room, 0]));
  const storedKeys = new Set<string>();
  const pending: Pending[][] = SENDERS.map(() => []);
  const unknown: Pending[][] = SENDERS.map(() => []);
  let sent = 0;
  let faultOpen = 0;
  let faults = 0;

  const receivers: ReceiverModel[] = RECEIVERS.map((receiver) => ({
    ...receiver,
    members: new Set(ROOMS),
    position: new Map(ROOMS.map((room) => [room, 0])),
    connection: undefined,
    connections: 0,
  }));

  const storeOnce = (sender: Sender, send: Pending) => {
    const key = `${send.room}#${send.clientMsgId}`;
    if (storedKeys.has(key)) return;
    storedKeys.add(key);
    s.store(send.room, { clientMsgId: send.clientMsgId, senderId: sender.user, text: send.text });
    log.set(send.room, log.get(send.room)! + 1);
  };
  const invoke = (index: number, room: string) => {
    const sender = SENDERS[index]!;
    const send = { room, clientMsgId: `${sender.client}-${++sent}`, text: `text ${sent}`, attempt: 1 };
    s.invoke(sender, room, send.clientMsgId, send.text);
    pending[index]!.push(send);
  };
  const complete = (index: number, result: Extract<Action, { kind: 'complete' }>['result']) => {
    const sender = SENDERS[index]!;
    const send = pending[index]!.shift();
    if (!send) return;
    if (result === 'ack' || result === 'stored-unknown') storeOnce(sender, send);
    if (result === 'ack') s.outcome(sender, send.room, send.clientMsgId, 'ack', { attempt: send.attempt });
    else if (result === 'refused') s.outcome(sender, send.room, send.clientMsgId, 'refused', { attempt: send.attempt, code: 'rate_limited' });
    else {
      s.outcome(sender, send.room, send.clientMsgId, 'indeterminate', { attempt: send.attempt, code: 'timeout' });
      unknown[index]!.push(send);
    }
  };
  const retry = (index: number) => {
    const sender = SENDERS[index]!;
    const send = unknown[index]!.shift();
    if (!send || (sender.sequential && pending[index]!.length > 0)) return;
    const again = { ...send, attempt: send.attempt + 1 };
    s.invoke(sender, again.room, again.clientMsgId, again.text, { attempt: again.attempt });
    pending[index]!.push(again);
  };
  const open = (receiver: ReceiverModel, rewind: number) => {
    const from: Record<string, number> = {};
    for (const [room, position] of receiver.position) {
      if (position === undefined) receiver.position.set(room, log.get(room)!);
      else from[room] = Math.max(0, position - rewind);
    }
    receiver.connection = `${receiver.client}-${++receiver.connections}`;
    const resume = receiver.connections === 1 ? 'none' : rewind > 0 ? 'older' : 'last';
    s.open(receiver.client, receiver.user, receiver.connection, { transport: receiver.transport, rooms: null, from: resume === 'none' ? {} : from, resume });
    for (const room of Object.keys(from)) receiver.position.set(room, from[room]);
    s.positions(receiver.client, receiver.connection, Object.fromEntries(receiver.position) as Record<string, number>);
  };
  const deliver = (receiver: ReceiverModel, count: number) => {
    if (!receiver.connection) return;
    for (let delivered = 0; delivered < count; ) {
      const room = [...receiver.position.keys()].find((candidate) => receiver.position.get(candidate)! < log.get(candidate)!);
      if (room === undefined) return;
      const seq = receiver.position.get(room)! + 1;
      s.deliver(receiver.client, receiver.connection, room, seq);
      receiver.position.set(room, seq);
      delivered++;
    }
  };

  for (const receiver of receivers) open(receiver, 0);
  for (const step of actions) {
    switch (step.kind) {
      case 'invoke': {
        const sender = SENDERS[step.sender]!;
        if ((sender.sequential && pending[step.sender]!.length > 0) || pending[step.sender]!.length >= 5) complete(step.sender, 'ack');
        else invoke(step.sender, ROOMS[step.room]!);
        break;
      }
      case 'complete':
        complete(step.sender, step.result);
        break;
      case 'retry':
        retry(step.sender);
        break;
      case 'deliver':
        deliver(receivers[step.receiver]!, step.count);
        break;
      case 'drop': {
        const receiver = receivers[step.receiver]!;
        if (receiver.connection) s.close(receiver.client, receiver.connection, 'cut');
        receiver.connection = undefined;
        break;
      }
      case 'reconnect': {
        const receiver = receivers[step.receiver]!;
        if (receiver.connection) s.close(receiver.client, receiver.connection, 'cut');
        open(receiver, step.rewind);
        break;
      }
      case 'membership': {
        const receiver = receivers[step.receiver]!;
        const room = ROOMS[step.room]!;
        if (receiver.members.has(room)) {
          receiver.members.delete(room);
          receiver.position.delete(room);
          s.membership(receiver.user, room, 'leave');
        } else {
          receiver.members.add(room);
          receiver.position.set(room, receiver.connection ? log.get(room)! : undefined);
          s.membership(receiver.user, room, 'join');
        }
        break;
      }
      case 'fault':
        if (faultOpen > 0) s.fault(`f${faultOpen}`, 'heal');
        else s.fault(`f${++faults}`, 'inject');
        faultOpen = faultOpen > 0 ? 0 : faults;
        break;
      case 'wait':
        s.wait(step.ms);
        break;
    }
  }

  // The finale: healed, everything answered, two sequential messages every receiver gets, everyone caught up.
  if (faultOpen > 0) s.fault(`f${faultOpen}`, 'heal');
  SENDERS.forEach((_, index) => {
    while (pending[index]!.length > 0) complete(index, 'ack');
  });
  for (const receiver of receivers) {
    if (!receiver.members.has('r1')) {
      receiver.members.add('r1');
      receiver.position.set('r1', receiver.connection ? log.get('r1')! : undefined);
      s.membership(receiver.user, 'r1', 'join');
    }
    if (!receiver.connection) open(receiver, 0);
    deliver(receiver, Infinity);
  }
  for (const id of ['final-1', 'final-2']) {
    s.invoke(SENDERS[0]!, 'r1', id, id);
    storeOnce(SENDERS[0]!, { room: 'r1', clientMsgId: id, text: id, attempt: 1 });
    s.outcome(SENDERS[0]!, 'r1', id, 'ack');
  }
  for (const receiver of receivers) deliver(receiver, Infinity);
  s.lag('messaging', 0).exit('gateway-0', true).sample('gateway-0', 100e6).sample('gateway-0', 110e6);
  s.settled().lag('messaging', 0);
  // Membership at the end, as Postgres holds it.
  const state = s.state();
  for (const room of state.rooms) {
    room.members = [...SENDERS.map((sender) => sender.user), ...receivers.filter((receiver) => receiver.members.has(room.room)).map((receiver) => receiver.user)];
  }
  return { ops: s.ops, state };
}

interface Run {
  ops: HistoryOp[];
  state: StoredState;
}

const copy = (run: Run): Run => structuredClone(run);
const frames = (run: Run) => run.ops.filter((op): op is FrameReceived => op.op === 'frame');
const finalFrames = (run: Run, id: string) => frames(run).filter((frame) => frame.clientMsgId === id);
const rowOf = (run: Run, id: string) => run.state.rows.find((row) => row.clientMsgId === id)!;
const settledAt = (run: Run) => run.ops.find((op) => op.op === 'settled')!.t;
/** An operation slipped in just before `t` (the history is sorted by time, stably). */
const insertBefore = (run: Run, t: number, op: HistoryOp) => run.ops.push({ ...op, t: t - 0.5 });

/** One planted fault per class: each returns the mutated run (and the options it is judged with). */
const PLANTED: Record<AnomalyClass, (run: Run) => { run: Run; options?: Partial<CheckOptions> }> = {
  'acked-lost': (run) => {
    run.state.rows = run.state.rows.filter((row) => row.clientMsgId !== 'final-2');
    return { run };
  },
  'stored-twice': (run) => {
    const row = rowOf(run, 'final-1');
    run.state.rows.push({ ...row, seq: rowOf(run, 'final-2').seq + 1 });
    run.state.rooms.find((room) => room.room === 'r1')!.lastSeq++;
    return { run };
  },
  'text-mismatch': (run) => {
    rowOf(run, 'final-1').text = 'changed';
    return { run };
  },
  'refused-stored': (run) => {
    const outcome = run.ops.find((op) => op.op === 'send-outcome' && op.clientMsgId === 'final-1')!;
    Object.assign(outcome, { outcome: 'refused', code: 'forbidden' });
    return { run };
  },
  'log-gap': (run) => {
    run.state.rooms.find((room) => room.room === 'r2')!.lastSeq++;
    return { run };
  },
  'log-duplicate-seq': (run) => {
    run.state.rows.push({ ...rowOf(run, 'final-1'), clientMsgId: 'intruder' });
    return { run };
  },
  'sender-reorder': (run) => {
    const [first, second] = [rowOf(run, 'final-1'), rowOf(run, 'final-2')];
    [first.seq, second.seq] = [second.seq, first.seq];
    return { run };
  },
  'delivered-twice': (run) => {
    const frame = finalFrames(run, 'final-1')[0]!;
    insertBefore(run, finalFrames(run, 'final-2')[0]!.t, { ...frame });
    return { run };
  },
  'delivered-out-of-order': (run) => {
    const [first, second] = [finalFrames(run, 'final-1')[1]!, finalFrames(run, 'final-2')[1]!];
    [first.t, second.t] = [second.t, first.t];
    return { run };
  },
  'delivery-mismatch': (run) => {
    const all = frames(run);
    all[Math.floor(all.length / 2)]!.text = 'garbled';
    return { run };
  },
  'phantom-delivery': (run) => {
    const last = finalFrames(run, 'final-2')[2]!;
    insertBefore(run, settledAt(run), { ...last, seq: last.seq! + 1, clientMsgId: 'ghost' });
    return { run };
  },
  'delivery-gap': (run) => {
    const frame = finalFrames(run, 'final-1')[0]!;
    run.ops = run.ops.filter((op) => op !== frame);
    // The receiver may have just joined r1 (its start then guessed from its first delivery): with no bound on the
    // join, final-1 is owed all the same.
    return { run, options: { membershipBoundMs: 0 } };
  },
  'delivered-after-leave': (run) => {
    const frame = finalFrames(run, 'final-2')[0]!;
    insertBefore(run, frame.t, { op: 'membership', t: 0, user: 'erin', room: 'r1', change: 'leave' });
    return { run, options: { membershipBoundMs: 0 } };
  },
  'not-delivered': (run) => {
    const frame = finalFrames(run, 'final-2')[1]!;
    run.ops = run.ops.filter((op) => op !== frame);
    return { run };
  },
  'client-not-open': (run) => {
    const open = run.ops.filter((op) => op.op === 'connection-opened' && op.client === 'gina-poll').pop()!;
    if (open.op !== 'connection-opened') throw new Error('unreachable');
    insertBefore(run, settledAt(run), { op: 'connection-closed', t: 0, client: 'gina-poll', connection: open.connection, reason: 'reset' });
    return { run };
  },
  'lag-not-zero': (run) => {
    Object.assign(run.ops.filter((op) => op.op === 'lag-sample').pop()!, { lag: 3 });
    return { run };
  },
  'unexpected-exit': (run) => {
    insertBefore(run, settledAt(run), { op: 'process-exit', t: 0, process: 'messaging-0', pid: 99, code: 1, signal: null, expected: false });
    return { run };
  },
  'rss-unbounded': (run) => {
    insertBefore(run, settledAt(run), { op: 'process-sample', t: 0, process: 'presence-0', pid: 98, rssBytes: 100e6 });
    insertBefore(run, settledAt(run), { op: 'process-sample', t: 0, process: 'presence-0', pid: 98, rssBytes: 300e6 });
    return { run };
  },
};

const classesOf = (run: Run, options?: Partial<CheckOptions>) => new Set(check(run.ops, run.state, options).anomalies.map((anomaly) => anomaly.class));

test('a history of a correct platform checks clean, and one fault of each class planted in it is found', () => {
  fc.assert(
    fc.property(fc.array(action, { maxLength: 200 }), (actions) => {
      const run = simulate(actions);
      const report = check(run.ops, run.state);
      assert.deepEqual(report.anomalies, [], 'the clean history');
      assert.ok(report.counts.deliveries >= 6 && report.counts.acked >= 2);
      for (const [anomalyClass, plant] of Object.entries(PLANTED)) {
        const planted = plant(copy(run));
        assert.ok(classesOf(planted.run, planted.options).has(anomalyClass as AnomalyClass), `${anomalyClass} planted and not found`);
      }
    }),
    { numRuns: 300 },
  );
});
