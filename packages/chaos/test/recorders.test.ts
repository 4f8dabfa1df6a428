import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient, startProxy, startTestStack, waitUntil, type TestProxy, type TestStack } from '@chat/testkit';
import {
  check,
  formatReport,
  History,
  HttpSender,
  PollReceiver,
  readStoredState,
  SdkClient,
  SseReceiver,
  WsReceiver,
  WsSender,
  type FrameReceived,
  type ResumingReceiver,
  type SendResult,
} from '../src/index';

let stack: TestStack;
let proxies: TestProxy[] = [];

before(async () => {
  stack = await startTestStack({
    gateways: 2,
    // The senders go faster than a user's default rate; SSE heartbeats often enough for a short read timeout.
    env: { SEND_RATE_PER_SECOND: '1000', SEND_BURST: '1000', WS_FRAME_RATE_PER_SECOND: '1000', WS_FRAME_BURST: '1000', SSE_HEARTBEAT_MS: '1000' },
  });
  proxies = await Promise.all(stack.gateways.map((gateway) => startProxy(gateway.url)));
});
after(async () => {
  await Promise.all(proxies.map((proxy) => proxy.close()));
  await stack?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('raw recorders of every kind and SDK clients on every transport, through two cuts of every connection, make a history the checker finds clean, with every send counted', async () => {
  const history = new History();
  const gateway = stack.gateways[0]!.url;
  const baseUrls = proxies.map((proxy) => proxy.url);
  const owner = await ApiClient.login(gateway, 'owner');
  const rooms = await Promise.all(['one', 'two', 'three'].map((name) => owner.createRoom(name).then((room) => room.id)));
  const login = async (name: string) => {
    const client = await ApiClient.login(gateway, name);
    for (const room of rooms) await client.joinRoom(room);
    return client;
  };
  let stopping = false;
  for (const service of [...stack.gateways, stack.messaging]) {
    service.process.once('exit', (code, signal) => {
      history.record({ op: 'process-exit', process: service.name, pid: service.process.pid, code, signal, expected: stopping });
    });
  }

  const fast = { backoff: { baseMs: 50, maxMs: 1_000 }, openTimeoutMs: 5_000 };
  const receivers: ResumingReceiver[] = [
    new WsReceiver({ history, client: 'ws-rooms', identity: await login('ws_rooms'), baseUrls, rooms, pingIntervalMs: 1_000, ...fast }),
    new WsReceiver({ history, client: 'ws-all', identity: await login('ws_all'), baseUrls, pingIntervalMs: 1_000, ...fast }),
    new SseReceiver({ history, client: 'sse-rooms', identity: await login('sse_rooms'), baseUrls, rooms, readTimeoutMs: 3_000, ...fast }),
    new SseReceiver({ history, client: 'sse-all', identity: await login('sse_all'), baseUrls, readTimeoutMs: 3_000, ...fast }),
    new PollReceiver({ history, client: 'poll-rooms', identity: await login('poll_rooms'), baseUrls, rooms, pollTimeoutSeconds: 2, ...fast }),
    new PollReceiver({ history, client: 'poll-all', identity: await login('poll_all'), baseUrls, pollTimeoutSeconds: 2, ...fast }),
  ];
  const wsSenders = [
    new WsSender({ history, client: 'ws-pipe', identity: await login('ws_pipe'), baseUrls, rooms, window: 4, ackTimeoutMs: 5_000, ...fast }),
    new WsSender({ history, client: 'ws-seq', identity: await login('ws_seq'), baseUrls, rooms, window: 1, ackTimeoutMs: 5_000, ...fast }),
  ];
  const httpSenders = [
    new HttpSender({ history, client: 'http-seq', identity: await login('http_seq'), baseUrls, window: 1, requestTimeoutMs: 5_000 }),
    new HttpSender({ history, client: 'http-pipe', identity: await login('http_pipe'), baseUrls, window: 3, requestTimeoutMs: 5_000 }),
  ];
  // The real SDK on each transport, each receiving and sending (a WebSocket one over its socket, the others over HTTP).
  const sdkClients = await Promise.all(
    (['websocket', 'sse', 'poll'] as const).map(
      async (transport, i) =>
        new SdkClient({ history, client: `sdk-${transport}`, identity: await login(`sdk_${transport}`), transport, baseUrls, ...(i === 1 ? {} : { rooms }) }),
    ),
  );
  const streams: Array<ResumingReceiver | SdkClient> = [...receivers, ...wsSenders, ...sdkClients];
  await Promise.all([...streams, ...httpSenders].map((client) => client.start()));

  // About 10 s: each sender sends 75 messages over the three rooms, paced, while every connection is cut twice. The
  // first cut comes while both gateways are paused, so that sends are in flight when it comes: their outcome is
  // unknown (the gateway may still have read them), and their retries must not make a second message.
  const perSender = 75;
  const senders = [...wsSenders, ...httpSenders, ...sdkClients];
  const results: Array<Promise<SendResult>> = [];
  const sending = senders.map(async (sender, index) => {
    for (let n = 0; n < perSender; n++) {
      results.push(sender.send(rooms[(n + index) % rooms.length]!, `message ${n} from ${sender.client}`));
      await sleep(120);
    }
  });
  const fault = (action: 'inject' | 'heal', id: string, kind: string) => history.record({ op: 'fault', action, id, kind, target: 'both gateways' });
  const cutting = (async () => {
    await sleep(3_000);
    fault('inject', 'pause', 'pause');
    for (const gateway of stack.gateways) gateway.process.kill('SIGSTOP');
    await sleep(400);
    fault('inject', 'cut-1', 'cut');
    for (const proxy of proxies) proxy.cut();
    fault('heal', 'cut-1', 'cut');
    for (const gateway of stack.gateways) gateway.process.kill('SIGCONT');
    fault('heal', 'pause', 'pause');
    await sleep(3_000);
    fault('inject', 'cut-2', 'cut');
    for (const proxy of proxies) proxy.cut();
    fault('heal', 'cut-2', 'cut');
  })();
  await Promise.all([...sending, cutting]);
  const outcomes = await Promise.all(results);
  assert.deepEqual(
    outcomes.filter((outcome) => outcome !== 'ack'),
    [],
    'every send ends acknowledged, retried through the cuts',
  );

  // Settled once every stream has caught up with every room's log.
  const lastSeqs = async () => {
    const { rows } = await stack.db.pool.query<{ id: string; last_seq: number }>('SELECT id, last_seq FROM rooms WHERE id = ANY($1::uuid[])', [rooms]);
    return new Map(rows.map((row) => [row.id, Number(row.last_seq)]));
  };
  const caughtUp = async () => {
    const last = await lastSeqs();
    const highest = new Map<string, number>();
    for (const op of history.ops) {
      if (op.op !== 'frame' || op.seq === undefined || op.room === undefined) continue;
      const key = `${op.client}#${op.room}`;
      highest.set(key, Math.max(highest.get(key) ?? 0, op.seq));
    }
    return streams.every((stream) => stream.connected && rooms.every((room) => highest.get(`${stream.client}#${room}`) === last.get(room)));
  };
  await waitUntil(caughtUp, 20_000, 'every stream to catch up with every room');
  history.record({ op: 'settled' });
  await Promise.all([...streams, ...httpSenders].map((client) => client.stop()));
  stopping = true;

  const stored = await readStoredState(stack.db.pool, rooms);
  const report = check(history.ops, stored);

  const sent = senders.length * perSender;
  assert.deepEqual(report.anomalyCounts, {}, formatReport(report));
  assert.equal(report.counts.sends, sent);
  assert.equal(report.counts.acked, sent);
  assert.equal(report.counts.refused + report.counts.indeterminate, 0);
  // Besides the messages, the rooms' logs hold the joins of the owner and of every client (an entry each).
  assert.equal(stored.rows.filter((row) => row.kind === 'message').length, sent);
  assert.equal(report.counts.receivers, streams.length);
  assert.ok(report.counts.deliveries >= streams.length * sent, `${report.counts.deliveries} deliveries`);
  assert.equal(report.counts.faultsInjected, 3);
  assert.ok(report.counts.attempts > sent, `the sends in flight at the first cut were retried: ${report.counts.attempts} attempts`);
  // The cuts were felt: every WebSocket and SSE stream reconnected twice (a poll between two polls may not notice).
  for (const stream of streams.filter((candidate) => candidate.transport !== 'poll')) {
    assert.ok(stream.connections >= 3, `${stream.client} opened ${stream.connections} connections`);
  }

  // The checker judges these histories rather than passing them: one delivery left out is found.
  const someDelivery = history.ops.find((op): op is FrameReceived => op.op === 'frame' && op.type === 'message' && op.transport === 'sse');
  assert.ok(someDelivery);
  const oneLost = check(
    history.ops.filter((op) => op !== someDelivery),
    stored,
  );
  assert.ok(oneLost.anomalies.some((anomaly) => ['delivery-gap', 'not-delivered'].includes(anomaly.class) && anomaly.ids.client === someDelivery.client));

  // So are the SDK clients': a frame one of them got left out is a gap, one it got twice a repeat, and an ack of a
  // send that was never stored a lost message.
  const isSdkDelivery = (op: (typeof history.ops)[number]): op is FrameReceived => op.op === 'frame' && op.type === 'message' && op.client.startsWith('sdk-');
  for (const transport of ['websocket', 'sse', 'poll']) {
    const sdkDelivery = history.ops.find((op) => isSdkDelivery(op) && op.transport === transport) as FrameReceived | undefined;
    assert.ok(sdkDelivery, `sdk-${transport} recorded deliveries`);
    const gap = check(
      history.ops.filter((op) => op !== sdkDelivery),
      stored,
    );
    assert.ok(
      gap.anomalies.some((anomaly) => ['delivery-gap', 'not-delivered'].includes(anomaly.class) && anomaly.ids.client === sdkDelivery.client),
      `a frame left out of ${sdkDelivery.client}'s history: ${formatReport(gap)}`,
    );
    const at = history.ops.indexOf(sdkDelivery);
    const twice = check([...history.ops.slice(0, at + 1), { ...sdkDelivery }, ...history.ops.slice(at + 1)], stored);
    assert.deepEqual(
      twice.anomalies.filter((anomaly) => anomaly.class === 'delivered-twice').map((anomaly) => anomaly.ids.client),
      [sdkDelivery.client],
      formatReport(twice),
    );
  }
  const sdkAck = history.ops.find((op) => op.op === 'send-outcome' && op.outcome === 'ack' && op.client === 'sdk-sse');
  assert.ok(sdkAck?.op === 'send-outcome');
  const lost = check(
    history.ops,
    { ...stored, rows: stored.rows.filter((row) => row.clientMsgId !== sdkAck.clientMsgId) },
  );
  assert.ok(lost.anomalies.some((anomaly) => anomaly.class === 'acked-lost' && anomaly.ids.clientMsgId === sdkAck.clientMsgId), formatReport(lost));
});
