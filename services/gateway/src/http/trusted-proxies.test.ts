import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, createServiceApp } from '@chat/runtime';
import { trustProxyOption } from './trusted-proxies';

/** A gateway HTTP shell that answers with the client address it believes. */
async function whoAmI(trustedProxies: string[], remoteAddress: string, forwardedFor?: string): Promise<string> {
  const app = createServiceApp({
    logger: createLogger('test', 'error'),
    isReady: () => true,
    fastify: { trustProxy: trustProxyOption(trustedProxies) },
  });
  app.get('/ip', async (request) => ({ ip: request.ip }));
  const response = await app.inject({
    method: 'GET',
    url: '/ip',
    remoteAddress,
    headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {},
  });
  await app.close();
  return (response.json() as { ip: string }).ip;
}

test('behind the local ingress on loopback, the client address comes from X-Forwarded-For', async () => {
  assert.equal(await whoAmI(['loopback'], '127.0.0.1', '203.0.113.7'), '203.0.113.7');
});

test('a peer that is not a trusted proxy cannot choose its address with X-Forwarded-For', async () => {
  assert.equal(await whoAmI(['loopback'], '198.51.100.9', '203.0.113.7'), '198.51.100.9');
});

test('a configured proxy range is trusted and only the hops it added are skipped', async () => {
  // The client forged the first entry; the proxy at 10.0.0.5 appended the real one.
  assert.equal(await whoAmI(['10.0.0.0/8'], '10.0.0.5', '192.0.2.1, 203.0.113.7'), '203.0.113.7');
});

test('TRUSTED_PROXIES=none ignores X-Forwarded-For even from loopback', async () => {
  assert.equal(await whoAmI(['none'], '127.0.0.1', '203.0.113.7'), '127.0.0.1');
});
