import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import type { ClientFrame } from '@chat/protocol';
import { ChatClient, type ChatClientOptions, type ConnectionStatus } from './client';
import { answerPings, send, startFakeGateway, waitFor, type FakeGateway, type FakeGatewayScript } from './testing/fake-gateway';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function withClient(script: FakeGatewayScript, options: Partial<ChatClientOptions>, run: (client: ChatClient, gateway: FakeGateway, statuses: ConnectionStatus[]) => Promise<void>) {
  const gateway = await startFakeGateway(script);
  const client = new ChatClient({
    baseUrl: gateway.url,
    getToken: () => 'token',
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    backoff: { initialMs: 10, maxMs: 50 },
    openTimeoutMs: 1_000,
    ...options,
  });
  const statuses: ConnectionStatus[] = [];
  client.on('status', (status) => statuses.push(status));
  try {
    client.start();
    await run(client, gateway, statuses);
  } finally {
    client.stop();
    await gateway.close();
  }
}

const sends = (frames: ClientFrame[] | undefined) => (frames ?? []).flatMap((frame) => (frame.type === 'send' ? [frame.clientMsgId] : []));

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
