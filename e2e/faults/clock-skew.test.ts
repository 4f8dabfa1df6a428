import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { check, formatReport, History, readStoredState, SdkClient, type SendResult } from '@chat/chaos';
import { ApiClient, startProxy, startService, startTestStack, waitUntil, type RunningService, type TestProxy, type TestStack } from '@chat/testkit';

/**
 * One of two gateways runs with its wall clock off (Debian's libfaketime; its monotonic clock is the host's): what one
 * issues the other accepts, and a stream that moves between them loses and repeats nothing. The skews are ones that
 * work today, without a clock tolerance in the token checks: each token holds for TOKEN_TTL_SECONDS (an hour).
 */
const SKEWS_SECONDS = [20, -20];

let stack: TestStack;

before(async () => {
  stack = await startTestStack({ gateways: 1, env: { SEND_RATE_PER_SECOND: '1000', SEND_BURST: '1000', WS_FRAME_RATE_PER_SECOND: '1000', WS_FRAME_BURST: '1000', SSE_HEARTBEAT_MS: '1000' } });
});
after(() => stack?.stop());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How far a gateway's wall clock is from ours, read from the `Date` header it writes (whole seconds). */
async function clockOffsetSeconds(url: string): Promise<number> {
  const response = await fetch(`${url}/healthz`);
  await response.text();
  return Math.round((Date.parse(response.headers.get('date') ?? '') - Date.now()) / 1000);
}

for (const skew of SKEWS_SECONDS) {
  test(`with one gateway's clock ${skew > 0 ? '+' : ''}${skew} s off, tokens of either are accepted by the other, streams resume across them with nothing lost or repeated, and sends succeed`, async () => {
    const normal = stack.gateways[0]!;
    let skewed: RunningService | undefined;
    const proxies: TestProxy[] = [];
    try {
      skewed = await startService('gateway', { ...stack.env, INSTANCE_ID: `${stack.topics.prefix}skew${skew}` }, { clockSkewSeconds: skew });
      assert.ok(Math.abs((await clockOffsetSeconds(skewed.url)) - skew) <= 1, `the skewed gateway's clock is ${skew} s off`);
      assert.ok(Math.abs(await clockOffsetSeconds(normal.url)) <= 1, "the other gateway's is not");

      // A token issued by each gateway is used at the other.
      const owner = await ApiClient.login(skewed.url, `owner${skew}`);
      const atNormal = new ApiClient(normal.url);
      Object.assign(atNormal, { token: owner.token, user: owner.user });
      const rooms = await Promise.all(['one', 'two'].map((name) => atNormal.createRoom(`${name}${skew}`).then((room) => room.id)));
      const gateways = [normal, skewed];
      const login = async (name: string, issuer: RunningService) => {
        const user = await ApiClient.login(issuer.url, name);
        const other = issuer === normal ? skewed! : normal;
        for (const room of rooms) {
          const { status } = await new ApiClient(other.url).request('POST', `/api/rooms/${room}/join`, undefined, { authorization: `Bearer ${user.token}` });
          assert.equal(status, 200, `a token of ${issuer === normal ? 'the normal' : 'the skewed'} gateway joins at the other`);
        }
        return user;
      };

      // Behind proxies, to cut every connection; the SDK clients take the gateways in turn, so each reconnection of a
      // stream that does not send lands on the other gateway, and resumes there from a cursor the first one gave.
      proxies.push(...(await Promise.all(gateways.map((gateway) => startProxy(gateway.url)))));
      const baseUrls = proxies.map((proxy) => proxy.url);
      const history = new History();
      const transports = ['websocket', 'sse', 'poll'] as const;
      const receivers = await Promise.all(
        transports.map(async (transport, i) => new SdkClient({ history, client: `rx-${transport}`, identity: await login(`rx_${transport}${skew}`.replace('-', 'm'), gateways[i % 2]!), transport, baseUrls })),
      );
      const senders = await Promise.all(
        transports.map(async (transport, i) => new SdkClient({ history, client: `tx-${transport}`, identity: await login(`tx_${transport}${skew}`.replace('-', 'm'), gateways[(i + 1) % 2]!), transport, baseUrls, rooms })),
      );
      const clients = [...receivers, ...senders];
      await Promise.all(clients.map((client) => client.start()));

      const perSender = 30;
      const results: Array<Promise<SendResult>> = [];
      const sending = senders.map(async (sender, index) => {
        for (let n = 0; n < perSender; n++) {
          results.push(sender.send(rooms[(n + index) % rooms.length]!, `message ${n} from ${sender.client}`));
          await sleep(100);
        }
      });
      const cutting = (async () => {
        for (const id of ['cut-1', 'cut-2']) {
          await sleep(1_000);
          history.record({ op: 'fault', action: 'inject', id, kind: 'cut', target: 'both gateways' });
          for (const proxy of proxies) proxy.cut();
          history.record({ op: 'fault', action: 'heal', id, kind: 'cut', target: 'both gateways' });
        }
      })();
      await Promise.all([...sending, cutting]);
      assert.deepEqual(
        (await Promise.all(results)).filter((result) => result !== 'ack'),
        [],
        'every send is acknowledged',
      );

      const lastSeqs = async () => {
        const { rows } = await stack.db.pool.query<{ id: string; last_seq: number }>('SELECT id, last_seq FROM rooms WHERE id = ANY($1::uuid[])', [rooms]);
        return new Map(rows.map((row) => [row.id, Number(row.last_seq)]));
      };
      await waitUntil(
        async () => {
          const last = await lastSeqs();
          const highest = new Map<string, number>();
          for (const op of history.ops) {
            if (op.op === 'frame' && op.seq !== undefined && op.room !== undefined) highest.set(`${op.client}#${op.room}`, Math.max(highest.get(`${op.client}#${op.room}`) ?? 0, op.seq));
          }
          return clients.every((client) => client.connected && rooms.every((room) => highest.get(`${client.client}#${room}`) === last.get(room)));
        },
        20_000,
        'every stream to catch up with every room',
      );
      history.record({ op: 'settled' });
      await Promise.all(clients.map((client) => client.stop()));

      const stored = await readStoredState(stack.db.pool, rooms);
      const report = check(history.ops, stored);
      assert.deepEqual(report.anomalyCounts, {}, formatReport(report));
      assert.equal(report.counts.acked, senders.length * perSender);
      assert.equal(stored.rows.filter((row) => row.kind === 'message').length, senders.length * perSender);
      for (const client of clients.filter((candidate) => candidate.transport !== 'poll')) {
        assert.ok(client.connections >= 3, `${client.client} was cut twice and resumed (${client.connections} connections)`);
      }
    } finally {
      await Promise.all(proxies.map((proxy) => proxy.close()));
      await skewed?.stop();
    }
  });
}
