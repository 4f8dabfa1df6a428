import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientFrame, MessageEvent, ServerFrame } from '@chat/protocol';
import type { ConnectionEvent, SendAttemptEvent } from './hooks';
import { answerPings, answerPoll, send, waitFor, withClient, type FakeGatewayScript } from './testing/fake-gateway';

function message(seq: number): MessageEvent & { cursor: string } {
  return { type: 'message', room: 'r1', seq, id: `id${seq}`, clientMsgId: `m${seq}`, sender: { id: 'u1', name: 'u' }, sentAt: '2025-01-01T00:00:00Z', text: `t${seq}`, cursor: `c${seq}` };
}

test('onConnection and onSendAttempt tell each connection, the cursor it resumed from, its frames, and every attempt of a send with its end', async () => {
  const script: FakeGatewayScript = {
    websocket(socket, n) {
      send(socket, { type: 'ready', cursor: n === 1 ? 'c0' : 'c1' });
      answerPings(socket);
      if (n === 1) {
        send(socket, message(1));
        // The first connection reads the send and drops without an ack: that attempt's outcome is unknown.
        socket.on('message', (data: Buffer) => {
          if ((JSON.parse(data.toString()) as ClientFrame).type === 'send') socket.terminate();
        });
        return;
      }
      socket.on('message', (data: Buffer) => {
        const frame = JSON.parse(data.toString()) as ClientFrame;
        if (frame.type === 'send') send(socket, { type: 'ack', clientMsgId: frame.clientMsgId });
      });
    },
  };
  const log: string[] = [];
  const onConnection = (event: ConnectionEvent) =>
    log.push(event.type === 'opened' ? `opened ${event.connection} ${event.transport} from ${event.cursor}` : event.type === 'closed' ? `closed ${event.connection}` : `position ${event.connection} ${event.cursor}`);
  const onRawFrame = (frame: ServerFrame, _transport: unknown, connection: number) => log.push(`frame ${connection} ${frame.type}`);
  const attempts: SendAttemptEvent[] = [];
  await withClient(script, { transports: ['websocket'], onConnection, onRawFrame, onSendAttempt: (event) => attempts.push(event) }, async (client) => {
    await waitFor(() => log.includes('frame 1 message'), 2_000, 'the first message');
    assert.equal(await client.send('r1', 'hello', 'm-1'), 'm-1');
    assert.deepEqual(log.slice(0, 6), ['opened 1 websocket from undefined', 'frame 1 ready', 'frame 1 message', 'closed 1', 'opened 2 websocket from c1', 'frame 2 ready']);
    assert.deepEqual(attempts, [
      { type: 'sent', room: 'r1', clientMsgId: 'm-1', text: 'hello', attempt: 1, via: 'websocket', connection: 1 },
      { type: 'settled', room: 'r1', clientMsgId: 'm-1', attempt: 1, error: { code: 'unavailable', message: 'connection closed before the ack' } },
      { type: 'sent', room: 'r1', clientMsgId: 'm-1', text: 'hello', attempt: 2, via: 'websocket', connection: 2 },
      { type: 'settled', room: 'r1', clientMsgId: 'm-1', attempt: 2 },
    ]);
  });
});

test('on long polling, each answer’s cursor is a position of its connection, after its frames, and sends go over HTTP with their refusals', async () => {
  let posts = 0;
  const script: FakeGatewayScript = {
    poll(_request, response, n) {
      if (n === 1) answerPoll(response, 'c1', [message(1)]);
      else setTimeout(() => answerPoll(response, `c${n}`), 50);
    },
    post(_request, response) {
      if (++posts === 1) response.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"code":"unavailable","message":"try again"}}');
      else response.writeHead(202).end();
    },
  };
  const log: string[] = [];
  const attempts: SendAttemptEvent[] = [];
  const options = {
    transports: ['poll' as const],
    onConnection: (event: ConnectionEvent) => log.push(`${event.type} ${event.connection}${event.type === 'position' ? ` ${event.cursor}` : ''}`),
    onRawFrame: (frame: ServerFrame, _transport: unknown, connection: number) => log.push(`frame ${connection} ${frame.type}`),
    onSendAttempt: (event: SendAttemptEvent) => attempts.push(event),
  };
  await withClient(script, options, async (client) => {
    await waitFor(() => log.includes('position 1 c2'), 2_000, 'the second answer');
    assert.deepEqual(log.slice(0, 4), ['opened 1', 'frame 1 message', 'position 1 c1', 'position 1 c2']);
    assert.equal(await client.send('r1', 'over http', 'm-2'), 'm-2');
    assert.deepEqual(
      attempts.map((event) => (event.type === 'sent' ? `sent ${event.attempt} ${event.via} ${event.connection}` : `settled ${event.attempt} ${event.error?.code ?? 'ack'}`)),
      ['sent 1 http undefined', 'settled 1 unavailable', 'sent 2 http undefined', 'settled 2 ack'],
    );
  });
});

test("a send refused unavailable with the server's retryAfterMs is retried after that hint, on the same connection", async () => {
  const sentAt: number[] = [];
  const script: FakeGatewayScript = {
    websocket(socket) {
      send(socket, { type: 'ready', cursor: 'c0' });
      answerPings(socket);
      socket.on('message', (data: Buffer) => {
        const frame = JSON.parse(data.toString()) as ClientFrame;
        if (frame.type !== 'send') return;
        sentAt.push(performance.now());
        if (sentAt.length === 1) send(socket, { type: 'error', code: 'unavailable', message: 'Kafka away', clientMsgId: frame.clientMsgId, retryAfterMs: 300 });
        else send(socket, { type: 'ack', clientMsgId: frame.clientMsgId });
      });
    },
  };
  const opened: number[] = [];
  const options = {
    transports: ['websocket' as const],
    // A backoff far longer than the hint: the hint is what the retry waits.
    backoff: { initialMs: 20_000, maxMs: 20_000 },
    random: () => 0.99,
    onConnection: (event: ConnectionEvent) => void (event.type === 'opened' && opened.push(event.connection)),
  };
  await withClient(script, options, async (client) => {
    assert.equal(await client.send('r1', 'later', 'm-hint'), 'm-hint');
    assert.equal(sentAt.length, 2);
    const waited = sentAt[1]! - sentAt[0]!;
    assert.ok(waited >= 280 && waited < 2_000, `retried ${Math.round(waited)} ms after the refusal (hint 300 ms)`);
    assert.deepEqual(opened, [1], 'no reconnect: the connection is fine, Kafka is not');
  });
});
