// `npm run faults:storm -- --clients 10000 [--share 0.4] [--endpoint-delay-ms 2000]`: the reconnect storm. A fault
// stack (one broker: the storm is the gateways'), N SDK clients on WebSocket with the SDK's own default timings, in
// rooms of 100 members, `--share` of them on gateway-0 and the rest on gateway-1; then gateway-0 is SIGKILLed and the
// clock runs until 99 % (and 100 %) of them stream again. The clients reach the gateways as through a Kubernetes
// Service: round-robin over its endpoints, the killed pod still among them for `--endpoint-delay-ms` (the kubelet
// seeing the container gone and the endpoint update). A sender posts to every room once a second throughout; at the
// end every client must hold every message of its room exactly once, in seq order (nothing lost, nothing repeated), and
// still be on WebSocket. Prints a figures table; exits 1 when a client lost or repeated a message, or did not come back.
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { ChatClient } from '@chat/client';
import { ApiClient } from '@chat/testkit';
import { FaultStack } from './fault-stack';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '10000' },
    share: { type: 'string', default: '0.4' },
    'endpoint-delay-ms': { type: 'string', default: '2000' },
    'timeout-s': { type: 'string', default: '120' },
  },
});
const total = Number(values.clients);
const share = Number(values.share);
const endpointDelayMs = Number(values['endpoint-delay-ms']);
const timeoutMs = Number(values['timeout-s']) * 1000;
if (!(total > 0) || !(share > 0 && share < 1) || !(endpointDelayMs >= 0)) {
  console.error('usage: npm run faults:storm -- --clients N [--share 0.4] [--endpoint-delay-ms 2000] [--timeout-s 120]');
  process.exit(2);
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);

/** Runs `work` over `items`, `concurrency` at a time. */
async function pool<T>(items: T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index]!, index);
      }
    }),
  );
}

interface StormClient {
  sdk: ChatClient;
  room: string;
  open: boolean;
  /** Seqs of the room's messages, in the order they arrived (after the SDK's own dedupe). */
  seqs: number[];
  transports: Set<string>;
  connections: number;
}

const started = Date.now();
const stack = await FaultStack.start({ brokers: 1 });
let code = 1;
const clients: StormClient[] = [];
try {
  const [url0, url1] = stack.gatewayUrls as [string, string];
  const owner = await ApiClient.login(url1, 'storm_owner');
  // Rooms of 100: one room of everyone would make each client's coming online an event for all the others (N²).
  const ROOM_SIZE = 100;
  const rooms: string[] = [];
  for (let i = 0; i < Math.ceil(total / ROOM_SIZE); i++) rooms.push((await owner.createRoom(`storm ${i}`)).id);
  const roomOf = (i: number) => rooms[Math.floor(i / ROOM_SIZE)]!;

  log(`logging in ${total} users and joining them to ${rooms.length} rooms`);
  const identities: Array<{ token: string; home: 0 | 1; room: string }> = new Array(total);
  await pool(
    Array.from({ length: total }, (_, i) => i),
    32,
    async (i) => {
      const home = i < Math.round(total * share) ? 0 : 1;
      const api = await ApiClient.login(home === 0 ? url0 : url1, `storm_${i}`);
      await api.joinRoom(roomOf(i));
      identities[i] = { token: api.token, home, room: roomOf(i) };
    },
  );

  // The Service in front of the gateways: each new connection (and each REST call) to the next endpoint.
  const endpoints = [url0, url1];
  let turn = 0;
  const viaService = () => endpoints[turn++ % endpoints.length]!;

  log(`connecting ${total} SDK clients over WebSocket (${Math.round(total * share)} on gateway-0)`);
  for (const [i, identity] of identities.entries()) {
    // Until its first connection is open every request goes to its home gateway (the SDK asks for a URL per request:
    // a ticket, then the socket), every later one through the Service.
    let placed = false;
    const client: StormClient = { sdk: undefined as unknown as ChatClient, room: identity.room, open: false, seqs: [], transports: new Set(), connections: 0 };
    client.sdk = new ChatClient({
      baseUrl: () => (placed ? viaService() : identity.home === 0 ? url0 : url1),
      getToken: () => identity.token,
      transports: ['websocket'],
      rooms: [identity.room],
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      onConnection: (event) => {
        if (event.type === 'opened') {
          placed = true;
          client.open = true;
          client.connections++;
          client.transports.add(event.transport);
        } else if (event.type === 'closed') client.open = false;
      },
    });
    client.sdk.on('message', (frame: { room: string; seq: number }) => {
      if (frame.room === identity.room) client.seqs.push(frame.seq);
    });
    clients.push(client);
    client.sdk.start();
    // A few hundred new connections a second, as clients arriving over a minute would; not the storm yet.
    if (i % 250 === 249) await sleep(250);
  }
  const openCount = () => clients.reduce((n, client) => n + (client.open ? 1 : 0), 0);
  for (const deadline = Date.now() + 180_000; openCount() < total; await sleep(200)) {
    if (Date.now() > deadline) throw new Error(`only ${openCount()} of ${total} clients open after 180 s`);
  }
  log(`all ${total} open; gateway-0 holds ${Math.round(total * share)}`);

  // A message a second to every room, through gateway-1, throughout.
  let sending = true;
  let sent = 0;
  const sender = (async () => {
    for (let round = 0; sending; round++) {
      const next = sleep(1_000);
      await pool(rooms, 16, async (room) => {
        const { status } = await owner.request('POST', `/api/rooms/${room}/messages`, { text: `storm ${round}`, clientMsgId: `storm-${round}` });
        if (status !== 202) throw new Error(`a send through gateway-1 was answered ${status}`);
        sent++;
      });
      await next;
    }
  })();
  await sleep(3_000);

  const killedAt = performance.now();
  log('SIGKILL gateway-0');
  await stack.slot('gateway-0').kill();
  setTimeout(() => endpoints.splice(endpoints.indexOf(url0), 1), endpointDelayMs).unref();
  let lowest = total;
  let at99: number | undefined;
  let at100: number | undefined;
  const curve: string[] = [];
  for (let tick = 0; at100 === undefined; tick++) {
    await sleep(100);
    const open = openCount();
    lowest = Math.min(lowest, open);
    const elapsed = performance.now() - killedAt;
    if (tick % 10 === 0) curve.push(`${(elapsed / 1000).toFixed(0)} s: ${open}`);
    if (at99 === undefined && open >= Math.ceil(total * 0.99)) at99 = elapsed;
    if (open === total) at100 = elapsed;
    if (elapsed > timeoutMs) break;
  }
  log(`open over time: ${curve.join(', ')}`);
  await sleep(3_000);
  sending = false;
  await sender;
  // Each room's messages as stored (its log holds the joins too), then every one delivered to each of its clients.
  const stored = new Map<string, number[]>();
  await pool(rooms, 8, async (room) => {
    const seqs: number[] = [];
    for (let after = 0; ; ) {
      const { body } = await owner.request<{ messages: Array<{ seq: number; clientMsgId?: string }> }>('GET', `/api/rooms/${room}/messages?after=${after}&limit=100`);
      if (body.messages.length === 0) break;
      for (const entry of body.messages) if (entry.clientMsgId?.startsWith('storm-')) seqs.push(entry.seq);
      after = body.messages.at(-1)!.seq;
    }
    stored.set(room, seqs);
  });
  const caughtUp = (client: StormClient) => client.seqs.at(-1) === stored.get(client.room)!.at(-1);
  for (const deadline = Date.now() + 30_000; clients.some((client) => !caughtUp(client)) && Date.now() < deadline; ) await sleep(200);
  const storedCount = [...stored.values()].reduce((n, seqs) => n + seqs.length, 0);
  let lost = 0;
  let repeated = 0;
  let reordered = 0;
  for (const client of clients) {
    const got = client.seqs;
    if (new Set(got).size !== got.length) repeated++;
    if (got.some((seq, i) => i > 0 && seq <= got[i - 1]!)) reordered++;
    const have = new Set(got);
    if (stored.get(client.room)!.some((seq) => !have.has(seq))) lost++;
  }
  const fellBack = clients.filter((client) => [...client.transports].some((transport) => transport !== 'websocket')).length;
  const moved = clients.filter((client) => client.connections > 1).length;
  const seconds = (ms: number | undefined) => (ms === undefined ? `not within ${timeoutMs / 1000} s` : `${(ms / 1000).toFixed(2)} s`);
  console.log('\n| figure | value |\n|---|---|');
  console.log(`| command | \`npm run faults:storm -- --clients ${total} --share ${share} --endpoint-delay-ms ${endpointDelayMs}\` |`);
  console.log(`| clients | ${total} (SDK, WebSocket, default timings), ${Math.round(total * share)} on the killed gateway |`);
  console.log(`| fewest open after the kill | ${lowest} |`);
  console.log(`| 99 % streaming again | ${seconds(at99)} after the kill |`);
  console.log(`| 100 % streaming again | ${seconds(at100)} after the kill |`);
  console.log(`| clients that reconnected | ${moved} |`);
  console.log(`| messages sent during the run (one a second to each of ${rooms.length} rooms) | ${sent} sent, ${storedCount} stored |`);
  console.log(`| clients that lost a message / got one twice / out of order | ${lost} / ${repeated} / ${reordered} |`);
  console.log(`| clients on a fallback transport at the end | ${fellBack} |`);
  console.log(`| wall time | ${((Date.now() - started) / 60_000).toFixed(1)} min |`);
  code = at100 !== undefined && storedCount === sent && lost === 0 && repeated === 0 && reordered === 0 && fellBack === 0 ? 0 : 1;
} catch (error) {
  console.error(error);
} finally {
  for (const client of clients) client.sdk.stop();
  await stack.stop();
}
process.exit(code);
