import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import type { MessageEvent } from '@chat/protocol';
import type { ConnectionEvent } from './hooks';
import { answerPings, openSse, send, sleep, waitFor, withClient, type FakeGatewayScript } from './testing/fake-gateway';

function message(seq: number): MessageEvent & { cursor: string } {
  return { type: 'message', room: 'r1', seq, id: `id${seq}`, clientMsgId: `m${seq}`, sender: { id: 'u1', name: 'u' }, sentAt: '2025-01-01T00:00:00Z', text: `t${seq}`, cursor: `c${seq}` };
}

/** SSE streams that send one message each (seq n on the nth), with heartbeats; and the headers each was opened with. */
function sseStreams(): { script: Required<Pick<FakeGatewayScript, 'sse'>>; opened: IncomingHttpHeaders[] } {
  const opened: IncomingHttpHeaders[] = [];
  return {
    opened,
    script: {
      sse(response, n) {
        opened.push(response.req.headers);
        openSse(response, n === 1 ? 'c0' : `c${n - 1}`);
        response.write(`id: c${n}\nevent: message\ndata: ${JSON.stringify(message(n))}\n\n`);
        const timer = setInterval(() => response.write(': keep-alive\n\n'), 50);
        response.on('close', () => clearInterval(timer));
      },
    },
  };
}

test('a client that fell back to SSE tries WebSocket again after the jittered wait, and resumes on it from its last cursor with nothing lost or repeated', async () => {
  let websocketUp = false;
  const opened: string[] = [];
  const sse = sseStreams();
  const script: FakeGatewayScript = {
    ...sse.script,
    websocket(socket) {
      // Dropped at once at first (a WebSocket path that is down for a while), then working.
      if (!websocketUp) return socket.terminate();
      answerPings(socket);
      send(socket, { type: 'ready', cursor: 'c1' });
      send(socket, message(2));
    },
  };
  const options = {
    preferredRetry: { minMs: 300, maxMs: 400 },
    liveness: { healthyAfterMs: 100 },
    onConnection: (event: ConnectionEvent) => event.type === 'opened' && opened.push(`${event.transport} from ${event.cursor}`),
  };
  await withClient(script, options, async (client, gateway) => {
    const seqs: number[] = [];
    client.on('message', (m) => seqs.push(m.seq));
    await waitFor(() => client.status.state === 'open' && client.status.transport === 'sse', 3_000, 'the fallback to SSE');
    const fellBackAt = Date.now();
    assert.equal(gateway.wsFrames.length, 2, 'two failed WebSockets, then SSE');
    websocketUp = true;
    await waitFor(() => client.status.state === 'open' && client.status.transport === 'websocket', 2_000, 'back on WebSocket');
    const after = Date.now() - fellBackAt;
    assert.ok(after >= 290 && after < 1_000, `WebSocket tried again ${after} ms after the fallback opened (300–400 ms)`);
    await waitFor(() => seqs.length === 2, 1_000, 'the message sent on the WebSocket');
    assert.deepEqual(seqs, [1, 2], 'seq 1 on SSE, seq 2 on the WebSocket');
    assert.deepEqual(opened, ['sse from undefined', 'websocket from c1'], 'the WebSocket resumed from the cursor SSE had reached');
    assert.equal(sse.opened.length, 1, 'SSE was left once WebSocket worked');
    await sleep(600);
    assert.equal(client.status.transport, 'websocket', 'and it stays there');
  });
});

test('a retry of WebSocket that fails goes straight back to the fallback, from the same cursor, and is tried again at the next interval, not in a storm', async () => {
  const sse = sseStreams();
  const wsAttemptsAt: number[] = [];
  const script: FakeGatewayScript = {
    ...sse.script,
    websocket(socket) {
      wsAttemptsAt.push(Date.now());
      socket.terminate();
    },
  };
  const options = { preferredRetry: { minMs: 300, maxMs: 400 }, transports: ['websocket' as const, 'sse' as const, 'poll' as const] };
  await withClient(script, options, async (client, _gateway, statuses) => {
    const seqs: number[] = [];
    client.on('message', (m) => seqs.push(m.seq));
    await waitFor(() => client.status.state === 'open' && client.status.transport === 'sse', 3_000, 'the fallback to SSE');
    await waitFor(() => sse.opened.length === 3, 3_000, 'two retries of WebSocket, each back on SSE');
    assert.deepEqual(
      sse.opened.map((headers) => headers['last-event-id']),
      [undefined, 'c1', 'c2'],
      'each return to SSE resumes from the last cursor',
    );
    // The third stream's message comes a moment after the stream opened.
    await waitFor(() => seqs.length === 3, 2_000, "the third SSE stream's message");
    assert.deepEqual(seqs, [1, 2, 3]);
    assert.equal(wsAttemptsAt.length, 4, 'two WebSockets before the fallback, and one per retry');
    const gap = wsAttemptsAt[3]! - wsAttemptsAt[2]!;
    assert.ok(gap >= 300, `the retries are an interval apart (${gap} ms)`);
    assert.ok(!statuses.some((status) => status.transport === 'poll'), 'a failed retry of WebSocket does not push the client further down, to polling');
  });
});
