import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LogEntryRow } from '@chat/db';
import type { SendCommand } from '@chat/kafka';
import { CoalescedSends } from './coalesced-sends';
import type { SendsOutcome } from './insert-sends';

const sender = { id: '00000000-0000-4000-8000-000000000001', name: 'a' };

function send(room: string, clientMsgId: string): SendCommand {
  return { v: 1, room, sender, clientMsgId, text: clientMsgId, acceptedAt: '2026-11-23T00:00:00.000Z' };
}

function row(command: SendCommand, seq: number): LogEntryRow {
  return {
    room_id: command.room,
    seq,
    id: `${command.room}-${seq}`,
    kind: 'message',
    target_seq: null,
    sender_id: command.sender.id,
    sender_name: command.sender.name,
    client_msg_id: command.clientMsgId,
    text: command.text,
    sent_at: new Date(command.acceptedAt),
    edited_at: null,
    deleted_at: null,
  };
}

/** A store that inserts every send it is given (seq = position in the call), remembering each call. */
function recordingStore(calls: SendCommand[][], gate?: Promise<void>) {
  return async (sends: SendCommand[]): Promise<SendsOutcome> => {
    calls.push(sends);
    await gate;
    return { stored: [], inserted: sends.map((command, i) => row(command, i + 1)) };
  };
}

const clientIds = (outcome: SendsOutcome) => outcome.inserted.map((r) => r.client_msg_id);

test('batches handed over in the same tick share one statement, and each gets back only its own rows', async () => {
  const calls: SendCommand[][] = [];
  const sends = new CoalescedSends(recordingStore(calls));
  const [a, b, c] = await Promise.all([
    sends.insert([send('r1', 'a1'), send('r1', 'a2')]),
    sends.insert([send('r2', 'b1')]),
    sends.insert([send('r3', 'c1'), send('r3', 'c2')]),
  ]);
  assert.equal(calls.length, 1);
  assert.deepEqual(calls[0]!.map((s) => s.clientMsgId), ['a1', 'a2', 'b1', 'c1', 'c2']);
  assert.deepEqual([clientIds(a), clientIds(b), clientIds(c)], [['a1', 'a2'], ['b1'], ['c1', 'c2']]);
});

test('a batch that arrives while a statement runs goes into the next one, with everything else that waited', async () => {
  const calls: SendCommand[][] = [];
  let open!: () => void;
  const sends = new CoalescedSends(recordingStore(calls, new Promise((resolve) => (open = resolve))));
  const first = sends.insert([send('r1', 'a1')]);
  await new Promise((resolve) => setImmediate(resolve));
  const later = [sends.insert([send('r2', 'b1')]), sends.insert([send('r3', 'c1')])];
  assert.equal(calls.length, 1, 'the later batches wait for the statement in flight');
  open();
  assert.deepEqual(clientIds(await first), ['a1']);
  assert.deepEqual((await Promise.all(later)).map(clientIds), [['b1'], ['c1']]);
  assert.deepEqual(calls.map((call) => call.map((s) => s.clientMsgId)), [['a1'], ['b1', 'c1']]);
});

test('a failed shared statement is tried again batch by batch: only the batch at fault is rejected, the others are stored', async () => {
  const calls: string[][] = [];
  const sends = new CoalescedSends(async (batch) => {
    calls.push(batch.map((s) => s.clientMsgId));
    if (batch.some((s) => s.clientMsgId === 'bad')) throw Object.assign(new Error('invalid byte sequence'), { code: '22021' });
    return { stored: [], inserted: batch.map((command, i) => row(command, i + 1)) };
  });
  const outcomes = await Promise.allSettled([sends.insert([send('r1', 'a1')]), sends.insert([send('r2', 'bad'), send('r2', 'b2')]), sends.insert([send('r3', 'c1')])]);
  assert.deepEqual(outcomes.map((result) => result.status), ['fulfilled', 'rejected', 'fulfilled']);
  assert.deepEqual(calls, [['a1', 'bad', 'b2', 'c1'], ['a1'], ['bad', 'b2'], ['c1']]);
  assert.deepEqual(clientIds(await sends.insert([send('r1', 'a2')])), ['a2'], 'the next batches get a statement of their own');
});

test("a shared statement that timed out waiting for one room's lock is tried again batch by batch: the other rooms' batches are stored", async () => {
  const calls: string[][] = [];
  const sends = new CoalescedSends(async (batch) => {
    calls.push(batch.map((s) => s.clientMsgId));
    if (batch.some((s) => s.room === 'locked')) throw Object.assign(new Error('canceling statement due to lock timeout'), { code: '55P03' });
    return { stored: [], inserted: batch.map((command, i) => row(command, i + 1)) };
  });
  const outcomes = await Promise.allSettled([sends.insert([send('r1', 'a1')]), sends.insert([send('locked', 'b1')]), sends.insert([send('r3', 'c1')])]);
  assert.deepEqual(outcomes.map((result) => result.status), ['fulfilled', 'rejected', 'fulfilled']);
  assert.equal((outcomes[1] as PromiseRejectedResult).reason.code, '55P03', 'the locked batch fails as it was, to be retried');
  assert.deepEqual(calls, [['a1', 'b1', 'c1'], ['a1'], ['b1'], ['c1']]);
});

test('when Postgres itself fails, every batch of the statement is rejected, with no statement per batch after it', async () => {
  let statements = 0;
  const sends = new CoalescedSends(async () => {
    statements++;
    throw new Error('Connection terminated unexpectedly');
  });
  const failed = await Promise.allSettled([sends.insert([send('r1', 'a1')]), sends.insert([send('r2', 'b1')])]);
  assert.deepEqual(failed.map((result) => result.status), ['rejected', 'rejected']);
  assert.equal(statements, 1);
});

test('a send named by two batches is stored once and reported to both', async () => {
  const calls: SendCommand[][] = [];
  const sends = new CoalescedSends(recordingStore(calls));
  const [a, b] = await Promise.all([sends.insert([send('r1', 'same'), send('r1', 'a2')]), sends.insert([send('r1', 'same')])]);
  assert.deepEqual(calls[0]!.map((s) => s.clientMsgId), ['same', 'a2']);
  assert.deepEqual([clientIds(a), clientIds(b)], [['same', 'a2'], ['same']]);
});

test('past the statement size, whole batches go into several statements that run at once', async () => {
  const calls: SendCommand[][] = [];
  let open!: () => void;
  const sends = new CoalescedSends(recordingStore(calls, new Promise((resolve) => (open = resolve))), 3);
  const batches = [['a1', 'a2'], ['b1'], ['c1', 'c2', 'c3', 'c4'], ['d1']].map((ids, i) => ids.map((id) => send(`r${i}`, id)));
  const outcomes = batches.map((batch) => sends.insert(batch));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(
    calls.map((call) => call.map((s) => s.clientMsgId)),
    [['a1', 'a2', 'b1'], ['c1', 'c2', 'c3', 'c4'], ['d1']],
    'all three statements are under way before any finishes',
  );
  open();
  assert.deepEqual((await Promise.all(outcomes)).map(clientIds), [['a1', 'a2'], ['b1'], ['c1', 'c2', 'c3', 'c4'], ['d1']]);
});
