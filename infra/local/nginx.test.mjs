// The local ingress's config, checked against small Node upstreams that show
// what nginx forwards: no Kafka or gateway needed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, sleep } from './common.mjs';
import { startNginx } from './nginx.mjs';

const dir = mkdtempSync(join(tmpdir(), 'nginx-test-'));
const hits = { live: [], dropping: [] };
let nginx;
let servers;

/** An upstream that echoes what it was sent; /stream writes one chunk, then another a second later. */
function echoUpstream(name) {
  return createServer((req, res) => {
    hits[name].push(`${req.method} ${req.url}`);
    if (name === 'dropping' && req.method === 'POST') return req.socket.destroy();
    if (req.url.startsWith('/sse')) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
      setTimeout(() => res.end('data: second\n\n'), 3000);
      return;
    }
    let size = 0;
    req.on('data', (chunk) => (size += chunk.length));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ upstream: name, headers: req.headers, bodyBytes: size }));
    });
  }).on('upgrade', (req, socket) => {
    socket.end(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Seen-Upgrade: ${req.headers.upgrade}\r\n\r\n`);
  });
}

/** A raw request, so headers such as a forged X-Forwarded-For go out exactly as given. */
function send(path, { method = 'GET', headers = {}, body, onFirstChunk } = {}) {
  return new Promise((resolve, reject) => {
    const req = request(`${nginx.url}${path}`, { method, headers }, (res) => {
      let text = '';
      res.on('data', (chunk) => {
        if (!text) onFirstChunk?.();
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode, headers: res.headers });
    });
    req.on('error', reject);
    req.end(body);
  });
}

before(async () => {
  servers = [echoUpstream('live'), echoUpstream('dropping')];
  const ports = [];
  for (const server of servers) {
    const port = await freePort();
    await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
    ports.push(port);
  }
  const deadPort = await freePort();
  nginx = await startNginx({ dir, port: await freePort(), upstreams: [...ports, deadPort].map((port) => `127.0.0.1:${port}`) });
});

after(async () => {
  await nginx?.stop();
  for (const server of servers ?? []) server.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the client address replaces a forged X-Forwarded-For and travels as X-Real-IP', async () => {
  const { text } = await send('/api/whoami', { headers: { 'x-forwarded-for': '203.0.113.66' } });
  const { headers } = JSON.parse(text);
  assert.equal(headers['x-forwarded-for'], '127.0.0.1');
  assert.equal(headers['x-real-ip'], '127.0.0.1');
});

test('GETs reach a live replica even while another refuses connections', async () => {
  for (let i = 0; i < 6; i++) assert.equal((await send(`/api/rooms?i=${i}`)).status, 200);
});

test('a POST that a replica dropped mid-request is not replayed on another replica', async () => {
  // Round robin lands some POSTs on the dropping replica: those fail with 502 and never reach the live one.
  const before = hits.live.filter((hit) => hit.startsWith('POST')).length;
  const statuses = [];
  for (let i = 0; i < 4; i++) statuses.push((await send('/api/rooms/x/messages', { method: 'POST', body: '{}' })).status);
  const reachedLive = hits.live.filter((hit) => hit.startsWith('POST')).length - before;
  assert.ok(statuses.includes(502), `some POST hit the dropping replica: ${statuses}`);
  assert.equal(reachedLive, statuses.filter((status) => status === 200).length);
});

test('bodies up to 64 KiB pass and larger ones are refused with 413 at the ingress', async () => {
  const fits = await send('/api/x', { method: 'POST', body: 'a'.repeat(64 * 1024), headers: { 'content-type': 'text/plain' } });
  // A dropping replica may take it; a 413 never comes from the size.
  assert.notEqual(fits.status, 413);
  const tooBig = await send('/api/x', { method: 'POST', body: 'a'.repeat(64 * 1024 + 1), headers: { 'content-type': 'text/plain' } });
  assert.equal(tooBig.status, 413);
});

test('an SSE response is passed on unbuffered: the first event arrives before the upstream finished', async () => {
  const started = Date.now();
  let firstAt = 0;
  const { text } = await send('/sse', { onFirstChunk: () => (firstAt = Date.now()) });
  assert.match(text, /first[\s\S]*second/);
  assert.ok(firstAt - started < 2000, `first chunk after ${firstAt - started} ms; the second was written at 3000 ms`);
});

test('a WebSocket upgrade reaches the replica with its Upgrade header and is switched', async () => {
  const response = await send('/ws', { headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } });
  assert.equal(response.status, 101);
  assert.equal(response.headers['x-seen-upgrade'], 'websocket');
});

test('the access log keeps paths with ids as :id and no query string: no room id, ticket or cursor', async () => {
  const room = '0b3f1c7e-2a4d-4e8f-9a1b-3c5d7e9f1a2b';
  await send(`/api/rooms/${room}/messages?after=3&limit=5`);
  await send(`/sse?ticket=tkt-secret-123&rooms=${room}`);
  const log = join(dir, 'access.log');
  let text = '';
  // Written out within a second (flush=1s).
  for (const deadline = Date.now() + 5_000; !text.includes('/sse') && Date.now() < deadline; await sleep(200)) {
    text = existsSync(log) ? readFileSync(log, 'utf8') : '';
  }
  assert.match(text, /"GET \/api\/rooms\/:id\/messages HTTP\/1\.1" 200/);
  assert.match(text, /"GET \/sse HTTP\/1\.1" 200/);
  assert.doesNotMatch(text, new RegExp(`${room}|tkt-secret|after=`, 'i'));
});

test('nginx stops on request and leaves its port free', async () => {
  const port = nginx.port;
  await nginx.stop();
  await sleep(100);
  const refused = await fetch(`http://127.0.0.1:${port}/`).then(() => false, () => true);
  assert.ok(refused);
  nginx = undefined;
});
