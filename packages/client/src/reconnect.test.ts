import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientFrame, MessageEvent, ServerFrame, TransportName } from '@chat/protocol';
import { answerPings, openSse, send, sleep, waitFor, withClient, type FakeGatewayScript } from './testing/fake-gateway';


const sends = (frames: ClientFrame[] | undefined) => (frames ?? []).flatMap((frame) => (frame.type === 'send' ? [frame.clientMsgId] : []));

function message(seq: number): MessageEvent & { cursor: string } {
  return { type: 'message', room: 'r1', seq, id: `id${seq}`, clientMsgId: `m${seq}`, sender: { id: 'u1', name: 'u' }, sentAt: '2025-01-01T00:00:00Z', text: `t${seq}`, cursor: `c${seq}` };
}

test('a send with no ack in time closes its WebSocket, and is sent again with the same clientMsgId on the next one only', async () => {
  const script: FakeGatewayScript = {
    websocket(socket, n) {
      send(socket, { type: 'ready', cursor: `c${n}` });
      // The connection looks alive (it answers pings) but the first one never acknowledges a send.
      answerPings(socket);
      if (n === 1) return;
      socket.on('message', (data: Buffer) => {
        const frame = JSON.parse(data.toString()) as ClientFrame;
        if (frame.type === 'send') send(socket, { type: 'ack', clientMsgId: frame.clientMsgId });
      });
    },
  };
  await withClient(script, { transports: ['websocket'], liveness: { ackTimeoutMs: 300 } }, async (client, gateway, statuses) => {
    await waitFor(() => client.status.state === 'open', 2_000, 'open');
    const sent = await Promise.race([client.send('r1', 'hello', 'm-1'), sleep(3_000).then(() => 'no ack in 3 s')]);
    assert.equal(sent, 'm-1');
    assert.equal(gateway.wsFrames.length, 2);
    assert.deepEqual(sends(gateway.wsFrames[0]), ['m-1'], 'sent once on the connection that did not acknowledge');
    assert.deepEqual(sends(gateway.wsFrames[1]), ['m-1'], 'sent again, with the same clientMsgId, on the new one');
    await waitFor(() => gateway.wsClosed[0] === true, 1_000, 'the first socket to be closed');
    assert.match(statuses.find((s) => s.retryAt !== undefined)?.reason ?? '', /no ack/);
    assert.equal(client.pendingSends, 0);
  });
});

test('backoff keeps growing while connections open and drop at once, and starts again only after one stayed healthy', async () => {
  const script: FakeGatewayScript = {
    websocket(socket, n) {
      send(socket, { type: 'ready', cursor: `c${n}` });
      answerPings(socket);
      // Four drops right after the open, then one that stays 700 ms (healthy after 400), then one that stays.
      if (n <= 4) setTimeout(() => socket.terminate(), 20);
      else if (n === 5) setTimeout(() => socket.terminate(), 700);
    },
  };
  const options = { transports: ['websocket'] as TransportName[], random: () => 1, backoff: { initialMs: 40, maxMs: 10_000 }, liveness: { healthyAfterMs: 400 } };
  await withClient(script, options, async (client, gateway, statuses) => {
    const delays: number[] = [];
    client.on('status', (status) => {
      if (status.retryAt !== undefined) delays.push(status.retryAt - Date.now());
    });
    await waitFor(() => gateway.wsFrames.length === 6 && client.status.state === 'open', 4_000, 'the sixth connection');
    assert.equal(delays.length, 5, `five reconnects (${delays.join(', ')} ms)`);
    for (const [i, expected] of [40, 80, 160, 320, 40].entries()) {
      assert.ok(Math.abs(delays[i]! - expected) <= 2, `reconnect ${i + 1} waited ${delays[i]} ms, not ${expected} (all: ${delays.join(', ')})`);
    }
    assert.ok(statuses.every((s) => s.transport === 'websocket'));
  });
});

test('a transport that opens and then freezes, as behind a buffering proxy, gives way to the next one', async () => {
  const script: FakeGatewayScript = {
    websocket(socket, n) {
      send(socket, { type: 'ready', cursor: `c${n}` });
    },
    sse(response, n) {
      openSse(response, `s${n}`);
      const timer = setInterval(() => response.write(': keep-alive\n\n'), 50);
      response.on('close', () => clearInterval(timer));
    },
  };
  await withClient(script, { transports: ['websocket', 'sse'], liveness: { pingIntervalMs: 100, pongTimeoutMs: 100 } }, async (client, gateway) => {
    await waitFor(() => client.status.state === 'open' && client.status.transport === 'sse', 3_000, 'open on SSE');
    assert.equal(gateway.wsFrames.length, 2, 'two frozen WebSockets, then SSE');
  });
});

test('connections the server ends with advice (a restart) do not push the client off its transport, however short they were', async () => {
  let sseStreams = 0;
  const script: FakeGatewayScript = {
    websocket(socket, n) {
      send(socket, { type: 'ready', cursor: `c${n}` });
      answerPings(socket);
      if (n <= 3) setTimeout(() => socket.close(1012, 'server restarting: reconnect'), 20);
    },
    sse(response, n) {
      sseStreams++;
      openSse(response, `s${n}`);
    },
  };
  await withClient(script, { transports: ['websocket', 'sse'] }, async (client, gateway) => {
    await waitFor(() => gateway.wsFrames.length === 4 && client.status.state === 'open', 3_000, 'the fourth WebSocket');
    assert.equal(client.status.transport, 'websocket');
    assert.equal(sseStreams, 0);
  });
});

test('a stream the server ends for a resync (4009) is resumed from its last cursor on the same transport, however short it was', async () => {
  const script: FakeGatewayScript = {
    websocket(socket, n) {
      send(socket, { type: 'ready', cursor: `c${n}` });
      answerPings(socket);
      if (n > 3) return;
      send(socket, { ...message(n), cursor: `after-${n}` });
      setTimeout(() => socket.close(4009, 'history has a gap here: resume with your cursor'), 20);
    },
    sse(response, n) {
      openSse(response, `s${n}`);
    },
  };
  await withClient(script, { transports: ['websocket', 'sse'] }, async (client, gateway, statuses) => {
    await waitFor(() => gateway.wsFrames.length === 4 && client.status.state === 'open', 3_000, 'the fourth WebSocket');
    assert.equal(client.status.transport, 'websocket', 'a resync says nothing against the transport');
    assert.deepEqual(gateway.wsUrls.map((url) => url.searchParams.get('cursor')), [null, 'after-1', 'after-2', 'after-3']);
    assert.ok(statuses.some((s) => s.retryAt !== undefined && /gap/.test(s.reason ?? '')));
  });
});

test('onRawFrame sees every frame the server sent, repeats included, before the SDK drops them', async () => {
  const frames: ServerFrame[] = [message(1), message(1), message(2), { type: 'pong' }];
  const script: FakeGatewayScript = {
    websocket(socket) {
      send(socket, { type: 'ready', cursor: 'c0' });
      for (const frame of frames) send(socket, frame);
    },
  };
  const raw: [string, TransportName][] = [];
  const onRawFrame = (frame: ServerFrame, transport: TransportName) => raw.push([frame.type === 'message' ? `message ${frame.seq}` : frame.type, transport]);
  await withClient(script, { transports: ['websocket'], onRawFrame }, async (client) => {
    const seqs: number[] = [];
    client.on('message', (m) => seqs.push(m.seq));
    await waitFor(() => raw.length === 5, 2_000, 'five raw frames');
    assert.deepEqual(raw, [
      ['ready', 'websocket'],
      ['message 1', 'websocket'],
      ['message 1', 'websocket'],
      ['message 2', 'websocket'],
      ['pong', 'websocket'],
    ]);
    assert.deepEqual(seqs, [1, 2]);
  });
});
