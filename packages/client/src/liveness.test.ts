import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { SilenceWatch } from './liveness';
import { answerPings, answerPoll, openSse, send, sleep, waitFor, withClient, type FakeGatewayScript } from './testing/fake-gateway';


function heartbeats(response: ServerResponse, everyMs: number): void {
  const timer = setInterval(() => response.write(': keep-alive\n\n'), everyMs);
  response.on('close', () => clearInterval(timer));
}

test('a WebSocket that falls silent after opening is given up after one unanswered ping, and the next one stays while it answers', async () => {
  const openedAt: number[] = [];
  const script: FakeGatewayScript = {
    websocket(socket, n) {
      openedAt.push(Date.now());
      send(socket, { type: 'ready', cursor: `c${n}` });
      // The first reads and answers nothing from here on, like a frozen gateway; the others answer their pings.
      if (n > 1) answerPings(socket);
    },
  };
  await withClient(script, { transports: ['websocket'], liveness: { pingIntervalMs: 100, pongTimeoutMs: 200 } }, async (client, gateway, statuses) => {
    await waitFor(() => gateway.wsFrames.length === 2 && client.status.state === 'open', 2_000, 'a second WebSocket');
    const replacedAfter = openedAt[1]! - openedAt[0]!;
    assert.ok(replacedAfter >= 300 && replacedAfter < 700, `replaced ${replacedAfter} ms after opening (ping at 100, deadline 200 later)`);
    assert.deepEqual(gateway.wsFrames[0], [{ type: 'ping' }]);
    await waitFor(() => gateway.wsClosed[0] === true, 1_000, 'the silent socket to be closed');
    assert.match(statuses.find((s) => s.state === 'reconnecting' && s.retryAt !== undefined)?.reason ?? '', /no answer to a ping/);

    await sleep(600);
    assert.equal(gateway.wsFrames.length, 2, 'the answering socket is kept');
    assert.ok(gateway.wsFrames[1]!.length >= 4, `pinged through its quiet (${gateway.wsFrames[1]!.length} pings)`);
  });
});

test('an SSE stream with no bytes for the read timeout is aborted and reopened, and one with heartbeats stays', async () => {
  const streams: ServerResponse[] = [];
  const script: FakeGatewayScript = {
    sse(response, n) {
      streams.push(response);
      openSse(response, `c${n}`);
      if (n > 1) heartbeats(response, 100);
    },
  };
  await withClient(script, { transports: ['sse'], liveness: { sseReadTimeoutMs: 300 } }, async (client, _gateway, statuses) => {
    await waitFor(() => streams.length === 2 && client.status.state === 'open', 2_000, 'a second SSE stream');
    assert.ok(streams[0]!.destroyed, 'the silent stream was aborted by the client');
    assert.match(statuses.find((s) => s.state === 'reconnecting' && s.retryAt !== undefined)?.reason ?? '', /no bytes for 300 ms/);
    await sleep(700);
    assert.equal(streams.length, 2, 'the stream with heartbeats is kept');
  });
});

test('a long poll that is never answered is aborted after its timeout and the margin, and the stream resumes from its cursor', async () => {
  let unansweredClosedAt: number | undefined;
  let unansweredSentAt = 0;
  const script: FakeGatewayScript = {
    poll(_request, response, n) {
      if (n === 2) {
        unansweredSentAt = Date.now();
        response.on('close', () => (unansweredClosedAt = Date.now()));
        return;
      }
      setTimeout(() => answerPoll(response, 'c1'), 100);
    },
  };
  await withClient(script, { transports: ['poll'], liveness: { pollTimeoutSeconds: 1, pollGraceMs: 300 } }, async (client, gateway) => {
    await waitFor(() => gateway.polls.length >= 3, 3_000, 'a poll after the unanswered one');
    assert.ok(unansweredClosedAt !== undefined, 'the unanswered poll was aborted');
    const abortedAfter = unansweredClosedAt - unansweredSentAt;
    assert.ok(abortedAfter >= 1_250 && abortedAfter < 1_800, `aborted ${abortedAfter} ms after it was sent (1 s timeout + 300 ms)`);
    assert.equal(gateway.polls[1]!.searchParams.get('timeout'), '1');
    assert.equal(gateway.polls[2]!.searchParams.get('cursor'), 'c1');
    await waitFor(() => client.status.state === 'open', 1_000, 'open again');
  });
});

test('the HTTP send and typing requests have a deadline: a send that hangs is retried with the same clientMsgId', async () => {
  const posts: { path: string; body: string }[] = [];
  const hung: ServerResponse[] = [];
  const script: FakeGatewayScript = {
    sse(response, n) {
      openSse(response, `c${n}`);
      heartbeats(response, 100);
    },
    post(request, response, body) {
      posts.push({ path: request.url ?? '', body });
      // The first send and every typing request never get an answer.
      if (request.url?.endsWith('/typing') || posts.filter((p) => p.path.endsWith('/messages')).length === 1) return hung.push(response);
      response.writeHead(202).end();
    },
  };
  await withClient(script, { transports: ['sse'], liveness: { requestTimeoutMs: 300 } }, async (client) => {
    await waitFor(() => client.status.state === 'open', 2_000, 'open');
    client.typing('r1');
    const startedAt = Date.now();
    const sent = await Promise.race([client.send('r1', 'hello', 'm-1'), sleep(3_000).then(() => 'no answer in 3 s')]);
    assert.equal(sent, 'm-1');
    assert.ok(Date.now() - startedAt >= 300, 'the retry came after the deadline');
    const sends = posts.filter((p) => p.path.endsWith('/messages')).map((p) => JSON.parse(p.body) as { clientMsgId: string });
    assert.deepEqual(sends.map((s) => s.clientMsgId), ['m-1', 'm-1']);
    await waitFor(() => hung.length === 2 && hung.every((response) => response.destroyed), 1_000, 'the hung send and typing requests to be aborted');
  });
});

test('a silence watch whose timer fires late (a throttled background tab) pings first instead of condemning the connection', async () => {
  const probes: number[] = [];
  const silences: string[] = [];
  const watch = new SilenceWatch({ quietMs: 50, answerMs: 100, probe: () => probes.push(Date.now()) }, (reason) => silences.push(reason));
  try {
    const blockedUntil = Date.now() + 300;
    while (Date.now() < blockedUntil); // the timer is due at 50 ms, and runs at 300
    await sleep(20);
    assert.equal(probes.length, 1, 'pinged once it ran');
    assert.deepEqual(silences, []);
    watch.heard();
    await sleep(60);
    assert.deepEqual(silences, [], 'answered: alive');
    await sleep(200);
    assert.equal(silences.length, 1, 'the next ping went unanswered');
  } finally {
    watch.stop();
  }
});
