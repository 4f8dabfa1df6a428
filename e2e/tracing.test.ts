import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { roomRef } from '@chat/telemetry';
import { ApiClient, SseStream, startOtlpReceiver, startTestStack, waitUntil, WsStream, type OtlpReceiver, type ReceivedSpan, type TestStack } from '@chat/testkit';

// Two gateways: the sender is on one, the other member on the other, so the trace shows both deliveries.
let receiver: OtlpReceiver;
let stack: TestStack;

before(async () => {
  receiver = await startOtlpReceiver();
  stack = await startTestStack({
    gateways: 2,
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '50',
      OTEL_METRIC_EXPORT_INTERVAL: '500',
      LOG_LEVEL: 'debug',
    },
  });
});
after(async () => {
  await stack?.stop();
  await receiver?.close();
});

const KIND = { server: 2, producer: 4, consumer: 5 } as const;

function statementOf(span: ReceivedSpan): string {
  return String(span.attributes['db.query.text'] ?? span.attributes['db.statement'] ?? '');
}

function describe(spans: ReceivedSpan[]): string {
  return spans.map((s) => `${s.service}:${s.name} ${s.spanId} <- ${s.parentSpanId || 'root'}`).join('\n');
}

/** The spans of one message's trace, once every hop has exported its part and no parent is missing. */
async function messageTrace(traceId: string, gatewaysDelivering: number): Promise<ReceivedSpan[]> {
  const spansOf = () => receiver.spans.filter((span) => span.traceId === traceId);
  try {
    return await waitUntil(
      () => {
        const spans = spansOf();
        const ids = new Set(spans.map((span) => span.spanId));
        const deliveries = spans.filter((span) => span.service === 'gateway' && span.name.endsWith('chat.events') && span.kind === KIND.consumer);
        return (
          deliveries.length >= gatewaysDelivering &&
          spans.some((span) => statementOf(span).includes('insert_sends(')) &&
          spans.every((span) => span.parentSpanId === '' || ids.has(span.parentSpanId)) &&
          spans
        );
      },
      15_000,
      `the spans of trace ${traceId} from every hop`,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; so far:\n${describe(spansOf())}`, { cause: error });
  }
}

/** Asserts one trace covers every hop, each a child of the one before, and returns the spans by hop. */
function assertEveryHop(spans: ReceivedSpan[], root: ReceivedSpan) {
  const byId = new Map(spans.map((span) => [span.spanId, span]));
  const childOf = (parent: ReceivedSpan, predicate: (span: ReceivedSpan) => boolean, what: string) => {
    const found = spans.filter((span) => span.parentSpanId === parent.spanId && predicate(span));
    assert.ok(found.length > 0, `${what} is a child of ${parent.name}; trace:\n${describe(spans)}`);
    return found;
  };
  const isDescendant = (span: ReceivedSpan, ancestor: ReceivedSpan) => {
    for (let at = byId.get(span.parentSpanId); at; at = byId.get(at.parentSpanId)) if (at === ancestor) return true;
    return false;
  };
  // Over HTTP, Fastify's request and handler spans may stand between the server span and the produce span.
  const produceCommand = spans.find((s) => s.kind === KIND.producer && s.name === `send ${stack.topics.prefix}chat.messages`);
  assert.ok(produceCommand && isDescendant(produceCommand, root), 'the gateway produce to chat.messages is inside the receiving span');
  assert.equal(produceCommand.service, 'gateway');
  const [consumeCommand] = childOf(produceCommand, (s) => s.kind === KIND.consumer && s.name === `process ${stack.topics.prefix}chat.messages`, 'messaging consume');
  assert.equal(consumeCommand!.service, 'messaging');
  const [persist] = childOf(consumeCommand!, (s) => s.name === 'persist batch', 'the Postgres transaction of the batch');
  assert.ok(persist!.links.some((link) => link.spanId === consumeCommand!.spanId), 'the batch span links to each message it carries');
  const insert = spans.find((span) => span.service === 'messaging' && statementOf(span).includes('insert_sends('));
  assert.ok(insert, 'a pg span for the statement that stores the batch');
  assert.ok(isDescendant(insert, persist!), 'the statement runs inside the batch span');
  const [produceEvent] = childOf(consumeCommand!, (s) => s.kind === KIND.producer && s.name === `send ${stack.topics.prefix}chat.events`, 'messaging produce to chat.events');
  assert.equal(produceEvent!.service, 'messaging');
  const deliveries = childOf(produceEvent!, (s) => s.kind === KIND.consumer && s.name === `process ${stack.topics.prefix}chat.events`, 'gateway consume and deliver');
  for (const delivery of deliveries) assert.equal(delivery.service, 'gateway');

  for (const span of spans) {
    assert.equal(span.traceId, root.traceId);
    let hops = 0;
    for (let at: ReceivedSpan | undefined = span; at !== root; at = byId.get(at.parentSpanId)) {
      assert.ok(at && ++hops < 50, `${span.service}:${span.name} reaches the root through its parents`);
    }
  }
  return { deliveries, consumeCommand: consumeCommand! };
}

test('a message sent over WebSocket is one trace: gateway, Kafka, messaging, Postgres, Kafka, and delivery on every gateway', async () => {
  const alice = await ApiClient.login(stack.gateways[0]!.url, 'trace_alice');
  const bob = await ApiClient.login(stack.gateways[1]!.url, 'trace_bob');
  const room = await alice.createRoom('traced');
  await bob.joinRoom(room.id);
  const aliceStream = await WsStream.forUser(alice, { rooms: room.id });
  const bobStream = await WsStream.forUser(bob, { rooms: room.id });

  aliceStream.send({ type: 'send', room: room.id, clientMsgId: 'traced-ws', text: 'follow me' });
  await bobStream.waitForMessages(1);

  const root = await waitUntil(
    () => receiver.spans.find((span) => span.name === 'websocket send' && span.attributes['chat.room.ref'] === roomRef(room.id)),
    10_000,
    'the span of the WebSocket send frame',
  );
  assert.equal(root.parentSpanId, '', 'the frame starts its own trace');
  assert.equal(root.kind, KIND.server);
  assert.equal(root.service, 'gateway');
  const spans = await messageTrace(root.traceId, 2);
  const { deliveries, consumeCommand } = assertEveryHop(spans, root);
  assert.deepEqual(
    deliveries.map((span) => span.attributes['chat.delivery.streams']),
    [1, 1],
    'each gateway delivered to its one stream of the room, in one span',
  );

  // Logs written inside a span carry its ids.
  const persistedLine = stack.messaging
    .logs()
    .split('\n')
    .filter((line) => line.includes('"persisted a batch"'))
    .map((line) => JSON.parse(line) as { trace_id?: string; span_id?: string })
    .find((record) => record.trace_id === root.traceId);
  assert.ok(persistedLine, 'the messaging log line of this batch names the trace');
  assert.ok(spans.some((span) => span.spanId === persistedLine.span_id && span.parentSpanId === consumeCommand.spanId));
  await Promise.all([aliceStream.close(), bobStream.close()]);
});

test('a message sent over HTTP POST is one trace from the request to the delivery', async () => {
  const carol = await ApiClient.login(stack.gateways[0]!.url, 'trace_carol');
  const room = await carol.createRoom('traced-http');
  const stream = await WsStream.forUser(carol, { rooms: room.id });

  const sent = await carol.request('POST', `/api/rooms/${room.id}/messages`, { clientMsgId: 'traced-http', text: 'over http' });
  assert.equal(sent.status, 202);
  await stream.waitForMessages(1);

  const produce = await waitUntil(
    () =>
      receiver.spans.find(
        (span) => span.name === `send ${stack.topics.prefix}chat.messages` && span.service === 'gateway' && span.attributes['chat.record.key_ref'] === roomRef(room.id),
      ),
    10_000,
    'the gateway produce span of the POST',
  );
  const spans = await messageTrace(produce.traceId, 1);
  const root = spans.find((span) => span.parentSpanId === '');
  assert.ok(root, 'the trace has its root');
  assert.equal(root.service, 'gateway');
  assert.equal(root.kind, KIND.server);
  assert.equal(root.attributes['http.request.method'] ?? root.attributes['http.method'], 'POST');
  assert.equal(root.name, 'POST /api/rooms/:roomId/messages', 'the server span is named for its Fastify route');
  assert.ok(spans.some((span) => span.name === 'handler - roomRoutes'), 'Fastify itself is instrumented (@fastify/otel)');
  assertEveryHop(spans, root);
  await stream.close();
});

test('no span carries a room id, a ticket or a token: paths and queries are redacted, rooms travel as references', async () => {
  const dave = await ApiClient.login(stack.gateways[0]!.url, 'trace_dave');
  const room = await dave.createRoom('redacted');
  const { ticket } = (await dave.request('POST', '/api/tickets')).body as { ticket: string };
  const sse = await SseStream.open(dave.baseUrl, { ticket, rooms: room.id });
  const ws = await WsStream.forUser(dave, { rooms: room.id });
  ws.send({ type: 'send', room: room.id, clientMsgId: 'redacted-1', text: 'hush' });
  await sse.waitForMessages(1);
  const history = await dave.request('GET', `/api/rooms/${room.id}/messages?after=0&limit=5`);
  assert.equal(history.status, 200);
  // A stream's request span ends when the stream does.
  await Promise.all([sse.close(), ws.close()]);
  await waitUntil(() => receiver.spans.some((span) => span.name === 'GET /api/rooms/:roomId/messages'), 10_000, 'the span of the history call');
  await waitUntil(() => receiver.spans.some((span) => span.name === 'GET /sse'), 10_000, 'the span of the SSE request');

  const secrets = { 'room id': room.id, ticket, token: dave.token };
  const leaks = receiver.spans.flatMap((span) =>
    Object.entries(span.attributes).flatMap(([key, value]) =>
      Object.entries(secrets)
        .filter(([, secret]) => String(value).toLowerCase().includes(secret.toLowerCase()))
        .map(([what]) => `${span.service}:${span.name} ${key} holds the ${what}: ${String(value)}`),
    ),
  );
  assert.deepEqual(leaks, []);
  const historySpan = receiver.spans.find((span) => span.name === 'GET /api/rooms/:roomId/messages' && span.kind === KIND.server)!;
  assert.equal(historySpan.attributes['url.path'], '/api/rooms/:id/messages');
  assert.equal(historySpan.attributes['url.query'], 'after=REDACTED&limit=5');
  const sseSpan = receiver.spans.find((span) => span.name === 'GET /sse' && span.kind === KIND.server)!;
  assert.equal(sseSpan.attributes['url.query'], 'ticket=REDACTED&rooms=REDACTED');
  assert.ok(receiver.spans.some((span) => span.attributes['chat.room.ref'] === roomRef(room.id)), 'the WebSocket frame span names the room by reference');
});

test('the Prometheus series also reach the OTLP collector, under each service name', async () => {
  // Exported every OTEL_METRIC_EXPORT_INTERVAL: wait for an export made after the traffic above.
  const points = (service: string, name: string) => receiver.metrics.filter((m) => m.service === service && m.name === name);
  await waitUntil(() => points('gateway', 'chat_messages_in_total').some((m) => Number(m.value) >= 2), 10_000, 'messages in over OTLP');
  await waitUntil(
    () => points('messaging', 'chat_persist_batch_size').some((m) => (m.value as { count: number }).count >= 2),
    10_000,
    'the batch size histogram over OTLP, as a histogram',
  );
  const lag = points('messaging', 'chat_kafka_consumer_lag');
  assert.ok(lag.length > 0, 'consumer lag over OTLP');
  assert.equal(lag.at(-1)!.attributes.group, stack.env.MESSAGING_CONSUMER_GROUP);
});
