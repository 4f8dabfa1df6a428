import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { get, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { canTakeOverResponses, expiryDelayMs, takeOverResponse } from './stream-request';

test('a taken-over response ends Fastify\'s part at once: its onResponse hooks run while the stream stays open', async () => {
  const app = Fastify();
  const finished: number[] = [];
  app.addHook('onResponse', async (_request, reply) => {
    finished.push(reply.statusCode);
  });
  let held: ServerResponse | undefined;
  app.get('/stream', async (_request, reply) => {
    const response = takeOverResponse(reply);
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.write('open\n');
    held = response;
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  const response = await new Promise<IncomingMessage>((resolve) => get(`http://127.0.0.1:${port}/stream`, resolve));
  try {
    const [first] = (await once(response, 'data')) as [Buffer];
    assert.equal(first.toString(), 'open\n');
    assert.deepEqual(finished, [200]);
    // Nothing of Fastify's waits for the end of the stream any more: only Node's own listener is left.
    assert.ok(held!.listeners('finish').every((listener) => listener.name !== 'onResFinished'));
    assert.equal(held!.writableEnded, false);
  } finally {
    held?.end();
    response.destroy();
    await app.close();
  }
});

test('a stream expires within the second after its token does: delays are whole seconds, so streams share timer lists', () => {
  const expiresAt = 1_700_000_060_000; // a token's exp, in whole seconds
  assert.equal(expiryDelayMs(expiresAt, expiresAt - 59_999), 60_000);
  assert.equal(expiryDelayMs(expiresAt, expiresAt - 59_001), 60_000, 'opened within the same second: the same delay');
  assert.equal(expiryDelayMs(expiresAt, expiresAt - 60_000), 60_000);
  assert.equal(expiryDelayMs(expiresAt, expiresAt - 60_001), 61_000, 'never before the token expires');
  assert.equal(expiryDelayMs(expiresAt, expiresAt + 5), 0, 'already expired: at once');
  assert.equal(expiryDelayMs(Infinity, 0), 2 ** 31 - 1, 'capped at what setTimeout takes');
});

test('the start-up probe finds the response listener that takeOverResponse runs', async () => {
  assert.equal(await canTakeOverResponses(), true);
});
