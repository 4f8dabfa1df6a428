// The black-box fuzzer: several users send generated frames, bodies, query strings, cursors and headers to a real
// stack over WebSocket, SSE, long poll and the REST API, for a bounded time. Inputs are valid-looking JSON with
// hostile strings and numbers, not only random bytes. What it checks is what a hostile client must never cause:
// a service that exits, a readiness probe that fails, a 5xx answer, a stalled pipeline (a clean client's message not
// delivered within 2 s afterwards), dead letters (everything a gateway accepts is storable), unbounded gateway memory.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import WebSocket from 'ws';
import { encodeCursor } from '@chat/protocol';
import { ApiClient, waitUntil, WsStream, type RunningService } from '@chat/testkit';

export interface FuzzTarget {
  gateway: RunningService;
  services: RunningService[];
  /** Records on the dead-letter topic so far. */
  deadLetters(): Promise<number>;
}

export interface FuzzReport {
  /** Inputs sent, by kind and transport. */
  tried: Record<string, number>;
  /** Answers of 500 and above, by kind (each is a defect: hostile input gets a 4xx). */
  serverErrors: Record<string, number>;
  exited: string[];
  notReady: number;
  /** How long the clean client's message took to arrive after the run, in ms. */
  cleanDeliveryMs: number;
  deadLetters: number;
  gatewayRssMb: { before: number; after: number };
  seconds: number;
}

const atoms = [
  '', ' ', '\u0000', 'a\u0000b', '\ud800', 'x\udfff', '\u0007', '\u202e', '😀', 'x'.repeat(70), 'x'.repeat(5000), '__proto__', 'delete 1', 'delete:1',
  '../../etc/passwd', '%00', '%zz', '{"a":', 'null', 'NaN', '1e300', '-1', '9007199254740993', '0x10', ',,,', "'; DROP TABLE messages; --",
];
const numbers = [0, -1, 1, 0.5, 2 ** 31, 2 ** 53, 2 ** 53 + 2, 2 ** 63, 1e300, -1e300, Number.MAX_SAFE_INTEGER];
const hostileString = fc.oneof(fc.constantFrom(...atoms), fc.string({ unit: 'binary', maxLength: 40 }), fc.uuid());
const hostileValue = fc.oneof(hostileString, fc.constantFrom(...numbers), fc.integer(), fc.boolean(), fc.constant(null), fc.array(hostileString, { maxLength: 3 }));

/** A cursor past 2^53, one for rooms of others, garbage, or a real one. */
function cursorFor(rooms: string[]): fc.Arbitrary<string> {
  const forged = fc.tuple(fc.constantFrom(...rooms), fc.bigInt({ min: 0n, max: 2n ** 64n })).map(([room, seq]) => {
    const bytes = [1, ...Buffer.from(room.replaceAll('-', ''), 'hex')];
    for (; seq >= 0x80n; seq >>= 7n) bytes.push(Number(seq & 0x7fn) | 0x80);
    bytes.push(Number(seq));
    return Buffer.from(bytes).toString('base64url');
  });
  const real = fc.tuple(fc.constantFrom(...rooms), fc.nat()).map(([room, seq]) => encodeCursor(new Map([[room, seq]])));
  return fc.oneof(forged, real, hostileString);
}

const pick = <T>(arbitrary: fc.Arbitrary<T>): T => fc.sample(arbitrary, 1)[0]!;

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Math.round(Number(line?.match(/\d+/)?.[0] ?? 0) / 1024);
}

export async function runBlackBoxFuzz(target: FuzzTarget, { seconds, users = 4 }: { seconds: number; users?: number }): Promise<FuzzReport> {
  const base = target.gateway.url;
  const tried: Record<string, number> = {};
  const serverErrors: Record<string, number> = {};
  const count = (kind: string, status?: number) => {
    tried[kind] = (tried[kind] ?? 0) + 1;
    if (status !== undefined && status >= 500) serverErrors[kind] = (serverErrors[kind] ?? 0) + 1;
  };
  const clients = await Promise.all(Array.from({ length: users }, (_, i) => ApiClient.login(base, `fuzz_${i}_${Date.now() % 100000}`)));
  const rooms = await Promise.all(clients.map((client, i) => client.createRoom(`fuzz ${i}`).then((room) => room.id)));
  for (const client of clients) for (const room of rooms) await client.joinRoom(room).catch(() => undefined);
  const strangerRoom = '00000000-0000-4000-8000-000000000000';
  const anyRoom = fc.oneof(fc.constantFrom(...rooms, strangerRoom), hostileString);
  const before = rssMb(target.gateway.process.pid!);
  let notReady = 0;
  const started = Date.now();
  const deadline = started + seconds * 1000;

  const http = async (client: ApiClient, kind: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const result = await client.request(method, path, body, headers).catch(() => ({ status: 0 }));
    count(kind, result.status);
  };
  const restRound = async (client: ApiClient) => {
    const room = pick(anyRoom);
    const seq = pick(fc.oneof(fc.constantFrom(...numbers.map(String)), hostileString, fc.nat().map(String)));
    const body = pick(fc.dictionary(fc.constantFrom('clientMsgId', 'text', 'name', 'seq', 'userId', 'username', 'extra'), hostileValue, { maxKeys: 3 }));
    const raw = pick(fc.oneof(fc.json(), hostileString));
    const query = new URLSearchParams(pick(fc.dictionary(fc.constantFrom('before', 'after', 'limit', 'x'), fc.oneof(hostileString, fc.constantFrom(...numbers.map(String))), { maxKeys: 3 })));
    // A URL carries UTF-8: a lone surrogate goes as U+FFFD, as a browser would send it.
    const enc = (value: string) => encodeURIComponent(Buffer.from(value, 'utf8').toString('utf8'));
    await Promise.all([
      http(client, 'rest send', 'POST', `/api/rooms/${enc(room)}/messages`, { clientMsgId: pick(hostileString), text: pick(hostileString) }),
      http(client, 'rest send', 'POST', `/api/rooms/${enc(room)}/messages`, body),
      http(client, 'rest body', 'POST', `/api/rooms`, raw),
      http(client, 'rest history', 'GET', `/api/rooms/${enc(room)}/messages?${query}`),
      http(client, 'rest edit', 'PATCH', `/api/rooms/${enc(room)}/messages/${enc(seq)}`, body),
      http(client, 'rest delete', 'DELETE', `/api/rooms/${enc(room)}/messages/${enc(seq)}`),
      http(client, 'rest read', 'POST', `/api/rooms/${enc(room)}/read`, pick(fc.oneof(fc.record({ seq: hostileValue }), fc.json()))),
      http(client, 'rest misc', pick(fc.constantFrom('POST', 'GET')), `/api/rooms/${enc(room)}/${pick(fc.constantFrom('join', 'leave', 'typing', 'presence'))}`),
      http(client, 'rest dm', 'POST', '/api/dms', body),
      http(client, 'rest login', 'POST', '/api/login', pick(fc.oneof(fc.record({ username: hostileValue }), fc.json()))),
      http(client, 'rest headers', 'GET', '/api/rooms', undefined, { authorization: pick(fc.oneof(hostileString, hostileString.map((s) => `Bearer ${s}`))).replace(/[^\t\x20-\x7e]/g, '') }),
    ]);
  };
  const streamQuery = () => {
    const params = new URLSearchParams();
    if (pick(fc.boolean())) params.set('rooms', pick(fc.oneof(fc.array(anyRoom, { maxLength: 4 }).map((list) => list.join(',')), hostileString)));
    if (pick(fc.boolean())) params.set('cursor', pick(cursorFor(rooms)));
    if (pick(fc.boolean())) params.set('timeout', pick(fc.oneof(fc.constantFrom(...numbers.map(String)), hostileString)));
    return params;
  };
  const streamRound = async (client: ApiClient) => {
    const auth = { authorization: `Bearer ${client.token}` };
    const sse = await fetch(`${base}/sse?${streamQuery()}`, { headers: { ...auth, 'last-event-id': pick(cursorFor(rooms)).replace(/[^\x20-\x7e]/g, '') }, signal: AbortSignal.timeout(500) }).catch(() => undefined);
    count('sse open', sse?.status);
    await sse?.body?.cancel().catch(() => undefined);
    const poll = await fetch(`${base}/poll?${streamQuery()}&timeout=1`, { headers: auth, signal: AbortSignal.timeout(3_000) }).catch(() => undefined);
    count('poll', poll?.status);
    await poll?.text().catch(() => undefined);
    // A WebSocket with a hostile query; those that open get hostile frames, then close.
    const socket = new WebSocket(`${base.replace('http', 'ws')}/ws?${streamQuery()}`, { headers: auth });
    // Errors after the open (the server closing on a hostile frame) are part of the run, not a crash of the fuzzer.
    socket.on('error', () => undefined);
    const opened = await new Promise<boolean>((resolve) => {
      socket.once('open', () => resolve(true));
      socket.once('unexpected-response', (_request, response) => {
        count('ws upgrade', response.statusCode);
        resolve(false);
      });
      socket.once('error', () => resolve(false));
      setTimeout(() => resolve(false), 3_000);
    });
    if (opened) {
      count('ws upgrade', 101);
      const frame = fc.record(
        {
          type: fc.oneof(fc.constantFrom('send', 'edit', 'delete', 'subscribe', 'unsubscribe', 'typing', 'ping'), hostileString),
          room: anyRoom,
          rooms: fc.oneof(fc.array(anyRoom, { maxLength: 3 }), hostileValue),
          clientMsgId: fc.oneof(fc.uuid(), hostileValue),
          text: hostileValue,
          target: hostileValue,
        },
        { requiredKeys: ['type'] },
      );
      for (const input of fc.sample(fc.oneof(frame.map((f) => JSON.stringify(f)), fc.string({ unit: 'binary', maxLength: 60 }), fc.json()), 20)) {
        socket.send(input);
        count('ws frame');
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    socket.terminate();
  };

  const probeReadiness = setInterval(() => {
    for (const service of target.services) {
      fetch(`${service.url}/readyz`, { signal: AbortSignal.timeout(2_000) }).then(
        (response) => void (response.status !== 200 && notReady++),
        () => void notReady++,
      );
    }
  }, 500);
  try {
    await Promise.all(
      clients.map(async (client) => {
        while (Date.now() < deadline) await Promise.all([restRound(client), streamRound(client)]);
      }),
    );
  } finally {
    clearInterval(probeReadiness);
  }
  const exited = target.services.filter((service) => service.process.exitCode !== null || service.process.signalCode !== null).map((s) => s.name);

  // A clean client afterwards: its message is stored and delivered within 2 s.
  const clean = await ApiClient.login(base, `fuzz_clean_${Date.now() % 100000}`);
  const room = (await clean.createRoom('after the fuzz')).id;
  const stream = await WsStream.forUser(clean, { rooms: room });
  const sentAt = Date.now();
  const accepted = await clean.request('POST', `/api/rooms/${room}/messages`, { clientMsgId: 'clean-1', text: 'clean' });
  if (accepted.status !== 202) throw new Error(`the clean send was refused: ${accepted.status}`);
  await waitUntil(() => stream.messages(room).length === 1, 2_000, 'the clean message delivered within 2 s');
  const cleanDeliveryMs = Date.now() - sentAt;
  await stream.close();
  return {
    tried,
    serverErrors,
    exited,
    notReady,
    cleanDeliveryMs,
    deadLetters: await target.deadLetters(),
    gatewayRssMb: { before, after: rssMb(target.gateway.process.pid!) },
    seconds: Math.round((Date.now() - started) / 1000),
  };
}
