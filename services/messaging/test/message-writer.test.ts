import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createPool } from '@chat/db';
import type { SendCommand } from '@chat/kafka';
import { createLogger } from '@chat/runtime';
import { createTestDatabase, type TestDatabase } from '@chat/testkit';
import { PgMessageWriter } from '../src/db/message-writer';

let db: TestDatabase;
let writer: PgMessageWriter;
const alice = { id: randomUUID(), name: 'alice' };
const bob = { id: randomUUID(), name: 'bob' };

before(async () => {
  db = await createTestDatabase();
  writer = new PgMessageWriter(db.pool);
  await db.pool.query('INSERT INTO users (id, name) VALUES ($1, $2), ($3, $4)', [alice.id, alice.name, bob.id, bob.name]);
});
after(() => db.drop());

async function createRoom(): Promise<string> {
  const id = randomUUID();
  await db.pool.query('INSERT INTO rooms (id, name, created_by) VALUES ($1, $2, $3)', [id, 'writer test', alice.id]);
  return id;
}

function send(room: string, text: string, sender = alice, clientMsgId: string = randomUUID()): SendCommand {
  return { v: 1, room, sender, clientMsgId, text, acceptedAt: new Date().toISOString() };
}

async function storedSeqs(room: string): Promise<Array<{ seq: number; text: string }>> {
  const { rows } = await db.pool.query('SELECT seq, text FROM messages WHERE room_id = $1 ORDER BY seq', [room]);
  return rows;
}

test('a batch of sends over two rooms gets dense seqs per room in batch order, and the room counters follow', async () => {
  const [a, b] = [await createRoom(), await createRoom()];
  const result = await writer.persistBatch([send(a, 'a1'), send(b, 'b1'), send(a, 'a2'), send(a, 'a3'), send(b, 'b2')]);
  assert.equal(result.inserted, 5);
  assert.equal(result.dropped, 0);
  const inRoom = (room: string) => result.events.filter((e) => e.room === room).map((e) => [e.seq, e.type === 'message' ? e.text : '']);
  assert.deepEqual(inRoom(a), [[1, 'a1'], [2, 'a2'], [3, 'a3']]);
  assert.deepEqual(inRoom(b), [[1, 'b1'], [2, 'b2']]);
  assert.deepEqual(result.events.map((e) => e.room), [...[a, a, a, b, b]].sort(), 'events come grouped by room, in seq order');
  const next = await writer.persistBatch([send(a, 'a4')]);
  assert.equal(next.events[0]!.seq, 4);
  assert.deepEqual((await storedSeqs(b)).map((r) => r.text), ['b1', 'b2']);
});

test('a replayed batch returns the stored entries unchanged and stores nothing twice', async () => {
  const room = await createRoom();
  const batch = [send(room, 'one'), send(room, 'two')];
  const first = await writer.persistBatch(batch);
  const replay = await writer.persistBatch([...batch, send(room, 'three')]);
  assert.equal(replay.inserted, 1);
  assert.deepEqual(
    replay.events.map((e) => [e.seq, e.id]),
    [...first.events.map((e) => [e.seq, e.id]), [3, replay.events[2]!.id]],
  );
  assert.deepEqual((await storedSeqs(room)).map((r) => r.seq), [1, 2, 3]);
});

test('sends to a room that does not exist are dropped, sends with invalid fields rejected, and the rest is stored', async () => {
  const room = await createRoom();
  const empty = send(room, '');
  const result = await writer.persistBatch([send(randomUUID(), 'nowhere'), empty, send(room, 'kept')]);
  assert.equal(result.inserted, 1);
  assert.equal(result.dropped, 1);
  assert.deepEqual(result.rejected.map((r) => [r.command, r.reason]), [[empty, 'invalid']]);
  assert.deepEqual(await storedSeqs(room), [{ seq: 1, text: 'kept' }]);
  assert.equal(await rowsOfRoomsThatDoNotExist(), 0);
});

test('poison ids (a NUL, lone surrogates that UTF-8 would fold into one U+FFFD, a server key) and unclean names are rejected before Postgres', async () => {
  const room = await createRoom();
  const poison = [
    send(room, 'nul', alice, 'a\u0000b'),
    send(room, 'surrogate one', alice, 'x\ud800'),
    send(room, 'surrogate two', alice, 'x\udbff'),
    send(room, 'space', alice, 'delete 1'),
    send(room, 'control in name', { id: alice.id, name: 'ali\u0007ce' }),
    send(room, 'text with a lone surrogate \udc00'),
  ];
  const result = await writer.persistBatch([send(room, 'before'), ...poison, send(room, 'after')]);
  assert.deepEqual(result.rejected.map((r) => r.command), poison);
  assert.ok(result.rejected.every((r) => r.reason === 'invalid'));
  assert.deepEqual(await storedSeqs(room), [{ seq: 1, text: 'before' }, { seq: 2, text: 'after' }]);
});

for (const kind of ['sends alone', 'sends with an edit'] as const) {
  test(`a command Postgres refuses for its data (${kind}) is isolated and rejected; every other command is stored, in order`, async () => {
    // A writer whose own check misses the NUL, as one of an older release might: the table's check and Postgres's
    // refusal of a NUL in text (22021) are what stop it, and the batch is halved until the command is alone.
    const lax = new PgMessageWriter(db.pool, 5, () => null);
    const [a, b] = [await createRoom(), await createRoom()];
    if (kind === 'sends with an edit') await lax.persistBatch([send(a, 'target')]);
    const bad = send(a, 'a NUL \u0000 in the text');
    const tooLong = send(b, 'x'.repeat(4001));
    const batch = [send(a, 'a1'), send(b, 'b1'), bad, send(a, 'a2'), tooLong, send(b, 'b2'), send(a, 'a3')];
    if (kind === 'sends with an edit') batch.push({ ...send(a, 'edited'), kind: 'message_edited', target: 1 });
    const result = await lax.persistBatch(batch);
    assert.deepEqual(result.rejected.map((r) => [r.command.text.slice(0, 12), r.reason]), [
      ['a NUL \u0000 in t', 'data_error'],
      ['xxxxxxxxxxxx', 'data_error'],
    ]);
    assert.match(result.rejected[0]!.detail, /^22021/);
    assert.match(result.rejected[1]!.detail, /^23514/);
    const offset = kind === 'sends with an edit' ? 1 : 0;
    assert.deepEqual((await storedSeqs(a)).slice(offset, offset + 3), [
      { seq: 1 + offset, text: 'a1' },
      { seq: 2 + offset, text: 'a2' },
      { seq: 3 + offset, text: 'a3' },
    ]);
    assert.deepEqual(await storedSeqs(b), [
      { seq: 1, text: 'b1' },
      { seq: 2, text: 'b2' },
    ]);
    assert.deepEqual(result.events.filter((e) => e.room === b).map((e) => e.seq), [1, 2], 'events of what was stored, in seq order');
  });
}

test('in a batch with edits, sends and edits naming a room that does not exist are dropped too', async () => {
  const room = await createRoom();
  await writer.persistBatch([send(room, 'first')]);
  const nowhere = randomUUID();
  const result = await writer.persistBatch([
    send(nowhere, 'lost'),
    { ...send(nowhere, 'no target'), kind: 'message_edited', target: 1 },
    { ...send(room, 'edited'), kind: 'message_edited', target: 1 },
  ]);
  assert.equal(result.inserted, 1);
  assert.equal(result.dropped, 2);
  assert.deepEqual(result.events.map((e) => [e.room, e.seq]), [[room, 2]]);
  assert.equal(await rowsOfRoomsThatDoNotExist(), 0);
});

/** No foreign key keeps messages to existing rooms (0003): the writer alone does. */
async function rowsOfRoomsThatDoNotExist(): Promise<number> {
  const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM messages m WHERE NOT EXISTS (SELECT 1 FROM rooms r WHERE r.id = m.room_id)');
  return rows[0].n;
}

test('a batch with an edit and a delete applies them only to the sender\'s own messages, with seqs after the sends', async () => {
  const room = await createRoom();
  await writer.persistBatch([send(room, 'from alice'), send(room, 'from bob', bob)]);
  const result = await writer.persistBatch([
    send(room, 'third'),
    { ...send(room, 'edited by alice'), kind: 'message_edited', target: 1 },
    { ...send(room, 'bob may not edit this'), sender: bob, kind: 'message_edited', target: 1 },
    { ...send(room, ''), sender: bob, kind: 'message_deleted', target: 2 },
  ]);
  assert.equal(result.inserted, 3);
  assert.equal(result.dropped, 1);
  assert.deepEqual(result.events.map((e) => [e.seq, e.type]), [[3, 'message'], [4, 'message_edited'], [5, 'message_deleted']]);
  const { rows } = await db.pool.query('SELECT seq, text, edited_at IS NOT NULL AS edited, deleted_at IS NOT NULL AS deleted FROM messages WHERE room_id = $1 AND seq <= 2 ORDER BY seq', [room]);
  assert.deepEqual(rows, [
    { seq: 1, text: 'edited by alice', edited: true, deleted: false },
    { seq: 2, text: '', edited: false, deleted: true },
  ]);
});

test('two writers storing the same sends of one room at once (a rebalance) end with each send stored once, densely', async () => {
  const room = await createRoom();
  const other = new PgMessageWriter(db.pool);
  const batches = Array.from({ length: 20 }, (_, i) => Array.from({ length: 10 }, (__, j) => send(room, `m${i}-${j}`)));
  // Both writers get every batch, in the same order, as the old and the new owner of a partition would.
  const [mine, theirs] = await Promise.all([
    (async () => { for (const batch of batches) await writer.persistBatch(batch); })(),
    (async () => { for (const batch of batches) await other.persistBatch(batch); })(),
  ]).then(() => Promise.all([writer.persistBatch(batches.flat()), other.persistBatch(batches.flat())]));
  const stored = await storedSeqs(room);
  assert.deepEqual(stored.map((r) => r.seq), Array.from({ length: 200 }, (_, i) => i + 1));
  assert.equal(new Set(stored.map((r) => r.text)).size, 200);
  assert.deepEqual(mine.events.map((e) => e.id), theirs.events.map((e) => e.id), 'both see the same entries');
  assert.equal(mine.inserted + theirs.inserted, 0, 'the final replay stores nothing');
});

test('a batch of sends is stored by index lookups, whatever the table held when the plan was made', async () => {
  // The function's plan is made once per connection, without the arrays' contents; made on an empty
  // table it would scan `messages` and `rooms` sequentially for good, unless the function forbids it.
  const empty = await createTestDatabase();
  // Every statement's plan, nested ones included, comes back to the client as a notice.
  const settings = '-c session_preload_libraries=auto_explain -c auto_explain.log_min_duration=0 -c auto_explain.log_nested_statements=on -c client_min_messages=log';
  const explained = createPool(`${empty.url}?options=${encodeURIComponent(settings)}`, createLogger('test', 'error'), { max: 1 });
  const plans: string[] = [];
  explained.on('connect', (client) => client.on('notice', (notice) => plans.push(notice.message ?? '')));
  try {
    await empty.pool.query('INSERT INTO users (id, name) VALUES ($1, $2)', [alice.id, alice.name]);
    const room = randomUUID();
    await empty.pool.query('INSERT INTO rooms (id, name, created_by) VALUES ($1, $2, $3)', [room, 'plan test', alice.id]);
    const emptyWriter = new PgMessageWriter(explained);
    for (let i = 0; i < 7; i++) assert.equal((await emptyWriter.persistBatch([send(room, `m${i}`), send(room, `n${i}`)])).inserted, 2);
    const plan = plans.findLast((text) => text.includes('Insert on messages'));
    assert.ok(plan, `auto_explain showed the function's statement (${plans.length} plans)`);
    assert.match(plan, /Index Scan using messages_room_id_sender_id_client_msg_id_key on messages/);
    assert.match(plan, /Index Scan using rooms_pkey on rooms/);
    assert.doesNotMatch(plan, /Seq Scan/);
    assert.equal(Number((await empty.pool.query('SELECT count(*) FROM messages')).rows[0].count), 14);
  } finally {
    await explained.end();
    await empty.drop();
  }
});
