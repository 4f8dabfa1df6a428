import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { CONTENT_SECURITY_POLICY, securityHeaders } from './security-headers';

async function app() {
  const server = Fastify({ trustProxy: '127.0.0.1' });
  securityHeaders(server);
  server.get('/api/thing', async () => ({ ok: true }));
  // As the SSE and long-poll transports answer: the raw response, its head written by hand.
  server.get('/sse', (_request, reply) => {
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream' });
    reply.raw.end(': hello\n\n');
  });
  await server.ready();
  return server;
}

test('every response carries the security headers, the hand-written heads of the streams and the 404s included', async () => {
  const server = await app();
  for (const url of ['/api/thing', '/sse', '/nowhere']) {
    const response = await server.inject({ url });
    assert.equal(response.headers['content-security-policy'], CONTENT_SECURITY_POLICY, url);
    assert.equal(response.headers['x-content-type-options'], 'nosniff', url);
    assert.equal(response.headers['referrer-policy'], 'no-referrer', url);
    assert.equal(response.headers['x-frame-options'], 'DENY', url);
    assert.equal(response.headers['strict-transport-security'], undefined, `${url}: no HSTS over plain http`);
  }
  assert.equal((await server.inject({ url: '/sse' })).headers['content-type'], 'text/event-stream');
  await server.close();
});

test('HSTS when the request came over TLS through a trusted proxy, and not on the word of an untrusted one', async () => {
  const server = await app();
  const trusted = await server.inject({ url: '/api/thing', headers: { 'x-forwarded-proto': 'https' }, remoteAddress: '127.0.0.1' });
  assert.match(trusted.headers['strict-transport-security'] as string, /^max-age=63072000; includeSubDomains$/);
  const untrusted = await server.inject({ url: '/api/thing', headers: { 'x-forwarded-proto': 'https' }, remoteAddress: '203.0.113.9' });
  assert.equal(untrusted.headers['strict-transport-security'], undefined);
  await server.close();
});

test('the policy allows nothing but the app itself', () => {
  assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe-inline|unsafe-eval|\*/);
  assert.match(CONTENT_SECURITY_POLICY, /frame-ancestors 'none'/);
  assert.match(CONTENT_SECURITY_POLICY, /object-src 'none'/);
});
