import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient, startTestStack, waitUntil, WsStream, type TestStack } from '@chat/testkit';

let stack: TestStack;
let gateway: string;

before(async () => {
  stack = await startTestStack();
  gateway = stack.gateways[0]!.url;
});
after(() => stack?.stop());

test('a message sent over WebSocket reaches every member through Kafka and Postgres, in seq order', async () => {
  const alice = await ApiClient.login(gateway, 'alice');
  const bob = await ApiClient.login(gateway, 'bob');
  const room = await alice.createRoom('general');
  await bob.joinRoom(room.id);

  const aliceStream = await WsStream.forUser(alice, { rooms: room.id });
  const bobStream = await WsStream.forUser(bob, { rooms: room.id });

  for (const text of ['one', 'two', 'three']) aliceStream.send({ type: 'send', room: room.id, clientMsgId: `c-${text}`, text });

  // Seqs 1 and 2 are alice's and bob's joins.
  const seen = await bobStream.waitForMessages(3);
  assert.deepEqual(seen.map((m) => [m.seq, m.text, m.sender.name]), [
    [3, 'one', 'alice'],
    [4, 'two', 'alice'],
    [5, 'three', 'alice'],
  ]);
  // The sender's own stream gets them too, and an ack for each.
  await aliceStream.waitForMessages(3);
  const acks = aliceStream.frames.filter((f) => f.type === 'ack').map((f) => (f as { clientMsgId: string }).clientMsgId);
  assert.deepEqual(acks.sort(), ['c-one', 'c-three', 'c-two']);
  for (const message of seen) {
    assert.equal(typeof message.cursor, 'string');
    assert.equal(message.room, room.id);
    assert.ok(!Number.isNaN(Date.parse(message.sentAt)));
  }

  const { rows } = await stack.db.pool.query('SELECT seq, kind, text, sender_name FROM messages WHERE room_id = $1 ORDER BY seq', [room.id]);
  assert.deepEqual(rows, [
    { seq: 1, kind: 'member_joined', text: '', sender_name: 'alice' },
    { seq: 2, kind: 'member_joined', text: '', sender_name: 'bob' },
    { seq: 3, kind: 'message', text: 'one', sender_name: 'alice' },
    { seq: 4, kind: 'message', text: 'two', sender_name: 'alice' },
    { seq: 5, kind: 'message', text: 'three', sender_name: 'alice' },
  ]);

  const history = await bob.request<{ messages: Array<{ seq: number; type: string; text?: string }> }>('GET', `/api/rooms/${room.id}/messages`);
  assert.equal(history.status, 200);
  assert.deepEqual(history.body.messages.map((m) => [m.seq, m.text ?? m.type]), [
    [1, 'member_joined'],
    [2, 'member_joined'],
    [3, 'one'],
    [4, 'two'],
    [5, 'three'],
  ]);

  await Promise.all([aliceStream.close(), bobStream.close()]);
});

test('sending the same clientMsgId again is acknowledged but never makes a second message', async () => {
  const carol = await ApiClient.login(gateway, 'carol');
  const room = await carol.createRoom('dedupe');
  const stream = await WsStream.forUser(carol, { rooms: room.id });

  const send = { type: 'send', room: room.id, clientMsgId: 'same-id', text: 'only once' };
  stream.send(send);
  await stream.waitFor((f) => f.type === 'ack');
  stream.send(send);
  const viaHttp = await carol.request('POST', `/api/rooms/${room.id}/messages`, { clientMsgId: 'same-id', text: 'only once' });
  assert.equal(viaHttp.status, 202);
  stream.send({ type: 'send', room: room.id, clientMsgId: 'next-id', text: 'after' });

  const messages = await stream.waitForMessages(2);
  assert.deepEqual(messages.map((m) => [m.seq, m.clientMsgId]), [[2, 'same-id'], [3, 'next-id']]);
  const { rows } = await stack.db.pool.query("SELECT count(*)::int AS n FROM messages WHERE room_id = $1 AND kind = 'message'", [room.id]);
  assert.equal(rows[0].n, 2);
  await stream.close();
});

test('history pages with after, before and limit, and refuses both at once', async () => {
  const dave = await ApiClient.login(gateway, 'dave');
  const room = await dave.createRoom('history');
  for (let i = 1; i <= 7; i++) {
    const result = await dave.request('POST', `/api/rooms/${room.id}/messages`, { clientMsgId: `h${i}`, text: `m${i}` });
    assert.equal(result.status, 202);
  }
  const seqs = async (query: string) => {
    const result = await dave.request<{ messages: Array<{ seq: number }> }>('GET', `/api/rooms/${room.id}/messages${query}`);
    assert.equal(result.status, 200, JSON.stringify(result.body));
    return result.body.messages.map((m) => m.seq);
  };
  // Seq 1 is dave's join.
  await waitUntil(async () => (await seqs('')).length === 8, 10_000, 'all 7 messages in history');
  assert.deepEqual(await seqs(''), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(await seqs('?limit=3'), [6, 7, 8]);
  assert.deepEqual(await seqs('?after=2&limit=3'), [3, 4, 5]);
  assert.deepEqual(await seqs('?before=4&limit=2'), [2, 3]);
  const both = await dave.request<{ error: { code: string } }>('GET', `/api/rooms/${room.id}/messages?after=1&before=5`);
  assert.equal(both.status, 400);
  assert.equal(both.body.error.code, 'invalid_input');
  const tooMany = await dave.request('GET', `/api/rooms/${room.id}/messages?limit=201`);
  assert.equal(tooMany.status, 400);
});

/** Every series of one metric, with its labels as written, e.g. `{group="messaging",topic="chat.messages",partition="0"}`. */
function seriesOf(text: string, metric: string): Array<{ labels: string; value: number }> {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${metric}{`))
    .map((line) => ({ labels: line.slice(metric.length, line.lastIndexOf(' ')), value: Number(line.slice(line.lastIndexOf(' ') + 1)) }));
}

/** The value of one Prometheus series, e.g. `chat_connections_open{transport="websocket"}`. */
function series(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

test("/metrics shows connections, messages in and out, delivery latency, batch sizes, consumer lag and each Kafka step's time after traffic", async () => {
  const erin = await ApiClient.login(gateway, 'metrics_erin');
  const room = await erin.createRoom('metrics');
  const stream = await WsStream.forUser(erin, { rooms: room.id });
  for (let i = 1; i <= 5; i++) stream.send({ type: 'send', room: room.id, clientMsgId: `m${i}`, text: `m${i}` });
  await stream.waitForMessages(5);

  // Metrics are recorded beside the deliveries, not before them (a close of an earlier test, a produce's time once its
  // ack is in): read them once they have caught up with the traffic.
  const metricsOnceThere = (url: string, there: (text: string) => boolean, what: string) =>
    waitUntil(async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      return there(text) && text;
    }, 10_000, what);
  const gatewayMetrics = await metricsOnceThere(
    gateway,
    (text) => series(text, 'chat_connections_open{transport="websocket"}') === 1 && (series(text, 'chat_delivery_latency_seconds_count') ?? 0) >= 5,
    'the gateway metrics of this traffic',
  );
  assert.equal(series(gatewayMetrics, 'chat_connections_open{transport="websocket"}'), 1);
  assert.ok((series(gatewayMetrics, 'chat_connects_total{transport="websocket"}') ?? 0) >= 1);
  assert.ok((series(gatewayMetrics, 'chat_messages_in_total{kind="message"}') ?? 0) >= 5);
  assert.ok((series(gatewayMetrics, 'chat_messages_out_total') ?? 0) >= 5);
  const latencyCount = series(gatewayMetrics, 'chat_delivery_latency_seconds_count') ?? 0;
  const latencySum = series(gatewayMetrics, 'chat_delivery_latency_seconds_sum') ?? Infinity;
  assert.ok(latencyCount >= 5, `latency observed ${latencyCount} times`);
  assert.ok(latencySum / latencyCount < 5, `mean delivery latency ${latencySum / latencyCount} s is plausible`);

  const { prefix } = stack.topics;
  const messagingMetrics = await metricsOnceThere(
    stack.messaging.url,
    (text) => (seriesOf(text, 'chat_kafka_produce_seconds_count').find((s) => s.labels.includes(`topic="${prefix}chat.events"`))?.value ?? 0) >= 5,
    'the messaging metrics of this traffic',
  );
  assert.ok((series(messagingMetrics, 'chat_persist_batch_size_sum') ?? 0) >= 5);
  assert.ok((series(messagingMetrics, 'chat_persist_batch_seconds_count') ?? 0) >= 1);

  // Consumer lag per group and partition: the messaging group on chat.messages, each gateway's own group on chat.events.
  // Everything sent has been consumed, so no partition is far behind.
  const commandLag = seriesOf(messagingMetrics, 'chat_kafka_consumer_lag');
  assert.ok(commandLag.length >= 1, 'the messaging group reports the partitions it fetched from');
  for (const { labels, value } of commandLag) {
    assert.match(labels, new RegExp(`group="${stack.env.MESSAGING_CONSUMER_GROUP}",topic="${stack.topics.prefix}chat.messages",partition="\\d+"`));
    assert.ok(value >= 0 && value < 5, `lag ${value} for ${labels}`);
  }
  const eventLag = seriesOf(gatewayMetrics, 'chat_kafka_consumer_lag');
  assert.ok(eventLag.some(({ labels }) => labels.includes(`topic="${stack.topics.prefix}chat.events"`)), 'the gateway reports its lag on chat.events');
  for (const { value } of eventLag) assert.ok(value >= 0 && value < 5);

  // Each step of the trip in time: the gateway's produce to chat.messages, the command's age when messaging read it,
  // messaging's produce to chat.events, the event's age when this gateway read it; all five messages, each plausible.
  const timed = (text: string, metric: string, labels: string) => {
    const count = seriesOf(text, `${metric}_count`).find((s) => s.labels.includes(labels))?.value ?? 0;
    const sum = seriesOf(text, `${metric}_sum`).find((s) => s.labels.includes(labels))?.value ?? Infinity;
    assert.ok(count >= 5, `${metric}${labels}: ${count} observations`);
    assert.ok(sum / count < 5, `${metric}${labels}: mean ${sum / count} s`);
  };
  timed(gatewayMetrics, 'chat_kafka_produce_seconds', `topic="${prefix}chat.messages"`);
  timed(messagingMetrics, 'chat_kafka_record_age_seconds', `topic="${prefix}chat.messages"`);
  timed(messagingMetrics, 'chat_kafka_produce_seconds', `topic="${prefix}chat.events"`);
  timed(gatewayMetrics, 'chat_kafka_record_age_seconds', `topic="${prefix}chat.events"`);
  await stream.close();
  await waitUntil(
    async () => series(await (await fetch(`${gateway}/metrics`)).text(), 'chat_connections_open{transport="websocket"}') === 0,
    5_000,
    'the closed stream to leave the gauge',
  );
});

test('every service runs on Node 24 or newer, the one the test run itself was given (scripts/node24.mjs)', async () => {
  const major = (version: string) => Number(/^v?(\d+)\./.exec(version)?.[1]);
  assert.ok(major(process.version) >= 24, `the test process runs on ${process.version}`);
  for (const service of [stack.gateways[0]!, stack.messaging]) {
    const text = await (await fetch(`${service.url}/metrics`)).text();
    // prom-client's default metrics: nodejs_version_info{version="v24.22.3",major="24",minor="22",patch="3"} 1
    const version = /^nodejs_version_info\{version="(v[\d.]+)"/m.exec(text)?.[1];
    assert.equal(version, process.version, `${service.name} reports Node ${version ?? 'nothing'}`);
    assert.ok(major(version!) >= 24);
  }
});
