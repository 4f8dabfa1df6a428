import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { History, type SendInvoked, type SendOutcome } from '../history';
import { WsSender, type WsSenderOptions } from './ws-sender';

/**
 * A gateway stand-in on loopback: every connection gets a `ready` frame; `answer(n)` says what connection n (from 1)
 * does with a send: ack it, say `unavailable`, or swallow it.
 */
async function fakeGateway(answer: (connection: number) => 'ack' | 'unavailable' | 'swallow') {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  let connections = 0;
  server.on('connection', (socket) => {
    const n = ++connections;
    socket.send(JSON.stringify({ type: 'ready', cursor: 'c0' }));
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type: string; clientMsgId?: string; room?: string };
      if (frame.type !== 'send') return;
      const what = answer(n);
      if (what === 'ack') socket.send(JSON.stringify({ type: 'ack', clientMsgId: frame.clientMsgId, room: frame.room, seq: 1 }));
      if (what === 'unavailable') socket.send(JSON.stringify({ type: 'error', code: 'unavailable', message: 'kafka', clientMsgId: frame.clientMsgId }));
    });
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const senderOf = (history: History, url: string, options: Partial<WsSenderOptions>) =>
  new WsSender({ history, client: 'ws-seq', identity: { token: 't', user: { id: 'u' } }, baseUrls: [url], maxAttempts: 5, ...options });

const attemptsOf = (history: History) => history.ops.filter((op): op is SendInvoked => op.op === 'send');
const outcomesOf = (history: History) => history.ops.filter((op): op is SendOutcome => op.op === 'send-outcome').map((op) => `${op.attempt} ${op.outcome}${op.code ? ` ${op.code}` : ''}`);

test('a send whose ack times out is retried on a new connection, not on the one it gave up on', async () => {
  const gateway = await fakeGateway((connection) => (connection === 1 ? 'swallow' : 'ack'));
  const history = new History();
  const sender = senderOf(history, gateway.url, { ackTimeoutMs: 300, backoff: { baseMs: 10, maxMs: 50 } });
  try {
    await sender.start();
    assert.equal(await sender.send('r', 'hello'), 'ack', outcomesOf(history).join(', '));
    const attempts = attemptsOf(history);
    assert.deepEqual(outcomesOf(history), ['1 indeterminate timeout', '2 ack']);
    assert.notEqual(attempts[0]!.connection, attempts[1]!.connection);
    assert.equal(gateway.connections(), 2);
  } finally {
    await sender.stop();
    await gateway.close();
  }
});

test('a send the gateway answers `unavailable` is retried on the same connection after a backoff', async () => {
  let answers = 0;
  const gateway = await fakeGateway(() => (++answers <= 2 ? 'unavailable' : 'ack'));
  const history = new History();
  const sender = senderOf(history, gateway.url, { backoff: { baseMs: 50, maxMs: 50 }, random: () => 0.999 });
  try {
    await sender.start();
    assert.equal(await sender.send('r', 'hello'), 'ack');
    assert.deepEqual(outcomesOf(history), ['1 indeterminate unavailable', '2 indeterminate unavailable', '3 ack']);
    const times = attemptsOf(history).map((op) => op.t);
    assert.ok(times[1]! - times[0]! >= 45 && times[2]! - times[1]! >= 45, `attempts at ${times.map((t) => (t - times[0]!).toFixed(0)).join(', ')} ms`);
    assert.equal(gateway.connections(), 1);
  } finally {
    await sender.stop();
    await gateway.close();
  }
});
