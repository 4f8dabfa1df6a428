import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientError } from '@chat/runtime';
import { ConnectionRegistry, type LiveConnection } from './connections';

function connection(userId: string, ip: string, onGoAway: () => void = () => undefined): LiveConnection {
  return { transport: 'websocket', user: { id: userId, name: userId }, ip, close: onGoAway };
}

test('connections past the per-user or per-IP cap are refused with rate_limited', () => {
  const registry = new ConnectionRegistry({ perUser: 2, perIp: 3 });
  const release = registry.admit(connection('a', 'ip1'));
  registry.admit(connection('a', 'ip1'));
  assert.throws(() => registry.admit(connection('a', 'ip2')), (e: unknown) => e instanceof ClientError && e.code === 'rate_limited');
  registry.admit(connection('b', 'ip1'));
  assert.throws(() => registry.admit(connection('c', 'ip1')), /per address/);
  release();
  release();
  registry.admit(connection('a', 'ip2'));
  assert.equal(registry.count(), 3);
});

test('draining asks every connection to go away within the window and resolves when all are gone', async () => {
  const registry = new ConnectionRegistry({ perUser: 10, perIp: 10 });
  const goneAt: number[] = [];
  const started = Date.now();
  for (let i = 0; i < 5; i++) {
    const release = registry.admit(
      connection(`u${i}`, 'ip', () => {
        goneAt.push(Date.now() - started);
        release();
      }),
    );
  }
  await registry.drain(200);
  assert.equal(goneAt.length, 5);
  // Within the 200 ms window, give or take a loaded machine's timer delays; the 5 s grace would be the other outcome.
  assert.ok(Math.max(...goneAt) < 2_000, `all gone within the window: ${goneAt}`);
  assert.equal(registry.count(), 0);
});

test('an observer hears of every connection that opens and closes', () => {
  const events: string[] = [];
  const registry = new ConnectionRegistry(
    { perUser: 10, perIp: 10 },
    { connected: (user, transport) => events.push(`+${user.id}/${transport}`), disconnected: (userId, transport) => events.push(`-${userId}/${transport}`) },
  );
  const release = registry.admit(connection('a', 'ip'));
  release();
  release();
  assert.deepEqual(events, ['+a/websocket', '-a/websocket']);
});

test("a sign-out ends the user's connections of tokens issued before it (4001), not newer ones nor anyone else's", () => {
  const registry = new ConnectionRegistry({ perUser: 10, perIp: 10 });
  const closed: string[] = [];
  const open = (user: string, name: string, issuedAt: number) => {
    registry.admit({ transport: 'websocket', user: { id: user, name: user }, ip: 'ip', close: (d) => closed.push(`${name} ${d.closeCode} ${d.reason}`) }, issuedAt);
  };
  open('alice', 'old-tab', 1_000);
  open('alice', 'older-tab', 500);
  open('alice', 'signed-in-again', 2_500);
  open('bob', 'bob', 1_000);
  assert.equal(registry.signedOut('alice', 2_000), 2);
  assert.deepEqual(closed, ['old-tab 4001 signed out', 'older-tab 4001 signed out']);
  assert.equal(registry.signedOut('carol', 2_000), 0);
});
