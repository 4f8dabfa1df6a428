// Migration 0006 against a real Postgres: a membership change and its entry of the room's log are one write, with
// the seq taken from the same counter, under the same lock, as the messaging writer's sends.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { createLogger } from '@chat/runtime';
import { createPool, migrate, type Pool } from '../src/index';

// testkit, which creates test databases elsewhere, depends on this package: the same few lines here.
const adminUrl = process.env.TEST_DATABASE_URL ?? '';
const name = `test_${randomBytes(5).toString('hex')}`;
let pool: Pool;
const alice = { id: randomUUID(), name: 'alice' };
const bob = { id: randomUUID(), name: 'bob' };

before(async () => {
  assert.ok(adminUrl, 'TEST_DATABASE_URL is unset: run integration tests through `npm test`');
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  pool = createPool(url.toString(), createLogger('test', 'error'), { max: 12 });
  await migrate(pool);
  await pool.query('INSERT INTO users (id, name) VALUES ($1, $2), ($3, $4)', [alice.id, alice.name, bob.id, bob.name]);
});
after(async () => {
  await pool?.end();
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
});

async function createRoom(): Promise<string> {
  const id = randomUUID();
  await pool.query('INSERT INTO rooms (id, name, created_by) VALUES ($1, $2, $3)', [id, 'entries', alice.id]);
  return id;
}

async function change(room: string, user: { id: string; name: string }, kind: string) {
  const { rows } = await pool.query('SELECT seq, kind, sender_id, client_msg_id, text FROM change_membership($1, $2, $3, $4)', [room, user.id, user.name, kind]);
  return rows;
}

async function send(room: string, clientMsgId: string): Promise<void> {
  await pool.query('SELECT * FROM insert_sends($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])', [
    [room], [alice.id], [alice.name], [clientMsgId], [clientMsgId], [new Date()],
  ]);
}

test('a join or leave that changes something appends its entry at the room\'s next seq; one that changes nothing appends none', async () => {
  const room = await createRoom();
  await send(room, 'm1');
  assert.deepEqual(await change(room, bob, 'member_joined'), [{ seq: 2, kind: 'member_joined', sender_id: bob.id, client_msg_id: 'joined 2', text: '' }]);
  assert.deepEqual(await change(room, bob, 'member_joined'), [], 'already a member');
  const { rows: read } = await pool.query('SELECT last_read_seq FROM room_members WHERE room_id = $1 AND user_id = $2', [room, bob.id]);
  assert.deepEqual(read, [{ last_read_seq: 2 }], 'their own join is no unread entry to them');
  assert.deepEqual((await change(room, bob, 'member_left')).map((row) => [row.seq, row.kind, row.client_msg_id]), [[3, 'member_left', 'left 3']]);
  assert.deepEqual(await change(room, bob, 'member_left'), [], 'no longer a member');
  assert.deepEqual(await change(randomUUID(), bob, 'member_joined'), [], 'no such room');
  await assert.rejects(change(room, bob, 'message'), { code: '22023' });
  const { rows } = await pool.query('SELECT last_seq FROM rooms WHERE id = $1', [room]);
  assert.deepEqual(rows, [{ last_seq: 3 }]);
});

test('joins and leaves and batches of sends on one room at once leave its log dense, each seq once', async () => {
  const room = await createRoom();
  const people = Array.from({ length: 6 }, (_, i) => ({ id: randomUUID(), name: `p${i}` }));
  for (const person of people) await pool.query('INSERT INTO users (id, name) VALUES ($1, $2)', [person.id, person.name]);
  const changes = people.map(async (person) => {
    let made = 0;
    for (let n = 0; n < 10; n++) made += (await change(room, person, n % 2 === 0 ? 'member_joined' : 'member_left')).length;
    return made;
  });
  const sends = Array.from({ length: 4 }, async (_, s) => {
    for (let n = 0; n < 25; n++) await send(room, `s${s}-${n}`);
  });
  const [made] = await Promise.all([Promise.all(changes), Promise.all(sends)]);
  assert.deepEqual(made, people.map(() => 10), 'every change changed something: each person\'s are in order');
  const { rows } = await pool.query<{ seq: number }>('SELECT seq FROM messages WHERE room_id = $1 ORDER BY seq', [room]);
  assert.deepEqual(rows.map((row) => row.seq), Array.from({ length: 160 }, (_, i) => i + 1));
});

test('the table refuses a membership row that is not shaped as change_membership writes it, and a message with its keys', async () => {
  const room = await createRoom();
  const insert = (seq: number, kind: string, key: string, text = '', target: number | null = null) =>
    pool.query(
      `INSERT INTO messages (room_id, seq, id, kind, target_seq, sender_id, sender_name, client_msg_id, text, sent_at)
       VALUES ($1, $2, gen_random_uuid(), $3, $4, $5, 'bob', $6, $7, now())`,
      [room, seq, kind, target, bob.id, key, text],
    );
  await insert(1, 'member_joined', 'joined 1');
  for (const [seq, kind, key, text, target] of [
    [2, 'member_joined', 'joined 9', '', null],
    [2, 'member_left', 'c-2', '', null],
    [2, 'member_left', 'left 2', 'bye', null],
    [2, 'member_left', 'left 2', '', 1],
    [2, 'message', 'joined 2', 'hi', null],
    [2, 'member_kicked', 'kicked 2', '', null],
  ] as const) {
    await assert.rejects(insert(seq, kind, key, text, target), { code: '23514' }, `${kind} ${key} ${text} ${target}`);
  }
});
