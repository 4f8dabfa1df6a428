import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { startFaultProxy, type FaultProxy } from './fault-proxy';

/** A loopback server that echoes what it gets and records it, per connection. */
interface Target {
  port: number;
  connections: Array<{ socket: Socket; received: string; error?: NodeJS.ErrnoException }>;
  echo: boolean;
}

interface Client {
  socket: Socket;
  received: () => string;
  error: () => NodeJS.ErrnoException | undefined;
}

let server: Server;
let target: Target;
let proxy: FaultProxy;
const clients: Socket[] = [];

before(async () => {
  target = { port: 0, connections: [], echo: true };
  server = createServer((socket) => {
    const connection: Target['connections'][number] = { socket, received: '' };
    target.connections.push(connection);
    socket.on('data', (chunk: Buffer) => {
      connection.received += chunk.toString();
      if (target.echo) socket.write(chunk);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => (connection.error = error));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  target.port = (server.address() as AddressInfo).port;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

afterEach(async () => {
  for (const socket of clients.splice(0)) socket.destroy();
  for (const { socket } of target.connections.splice(0)) socket.destroy();
  target.echo = true;
  await proxy?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !check(); await sleep(5)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
  }
}

/** A client through the proxy; resolves once connected (the proxy accepted it), rejects with the connect error. */
function open(port = proxy.port): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    clients.push(socket);
    let received = '';
    let error: NodeJS.ErrnoException | undefined;
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error = e;
      reject(e);
    });
    socket.on('connect', () => resolve({ socket, received: () => received, error: () => error }));
  });
}

async function roundTrip(client: Client, text: string): Promise<number> {
  const before = client.received().length;
  const started = performance.now();
  client.socket.write(text);
  await until(() => client.received().length >= before + text.length, `the echo of ${text}`);
  return performance.now() - started;
}

test('with no fault it passes bytes both ways, and passes on a clean close', async () => {
  proxy = await startFaultProxy({ port: target.port });
  const client = await open();
  await roundTrip(client, 'hello');
  assert.equal(client.received(), 'hello');
  assert.equal(target.connections[0]!.received, 'hello');
  client.socket.end();
  await until(() => target.connections[0]!.socket.readableEnded, 'the end at the target');
  await until(() => proxy.openConnections === 0, 'the proxy to forget the connection');
  assert.equal(proxy.acceptedConnections, 1);
});

test('latency delays every chunk by at least its time in each direction it is set for', async () => {
  proxy = await startFaultProxy({ port: target.port });
  const client = await open();
  assert.ok((await roundTrip(client, 'warm')) < 100);
  proxy.latency({ ms: 150, direction: 'upstream' });
  const upstreamOnly = await roundTrip(client, 'a');
  assert.ok(upstreamOnly >= 150, `upstream latency: ${upstreamOnly} ms`);
  proxy.latency({ ms: 150 });
  const both = await roundTrip(client, 'b');
  assert.ok(both >= 300, `both ways: ${both} ms`);
  await proxy.heal();
  assert.ok((await roundTrip(client, 'c')) < 100, 'healed');
});

test('with jitter, chunks still arrive in the order they were sent', async () => {
  proxy = await startFaultProxy({ port: target.port });
  const client = await open();
  proxy.latency({ ms: 40, jitterMs: 35, direction: 'upstream' });
  const sent = Array.from({ length: 40 }, (_, i) => `<${i}>`);
  for (const part of sent) {
    client.socket.write(part);
    await sleep(2);
  }
  await until(() => client.received().length === sent.join('').length, 'every chunk');
  assert.equal(target.connections[0]!.received, sent.join(''));
  assert.equal(client.received(), sent.join(''));
});

test('a blackhole holds open and new connections, and after heal what was held goes on', async () => {
  proxy = await startFaultProxy({ port: target.port });
  const client = await open();
  await roundTrip(client, 'before');
  proxy.blackhole();
  client.socket.write('during');
  const late = await open();
  late.socket.write('late');
  await sleep(300);
  assert.equal(target.connections[0]!.received, 'before', 'nothing reached the target');
  assert.equal(client.received(), 'before');
  assert.equal(target.connections.length, 1, 'the new connection is held at the proxy');
  assert.equal(proxy.openConnections, 2);
  assert.equal(client.error(), undefined);

  await proxy.heal();
  await until(() => client.received() === 'beforeduring', 'the held bytes to go on');
  await until(() => late.received() === 'late', 'the held connection to go on');
  assert.equal(target.connections.length, 2);
});

test('a downstream blackhole holds the answers while requests still reach the target', async () => {
  proxy = await startFaultProxy({ port: target.port });
  const client = await open();
  proxy.blackhole('downstream');
  client.socket.write('request');
  await until(() => target.connections[0]?.received === 'request', 'the request at the target');
  await sleep(200);
  assert.equal(client.received(), '');
  await proxy.heal();
  await until(() => client.received() === 'request', 'the held answer');
});

test('a dropped direction swallows its bytes while the other flows, and heal resets what lost bytes', async () => {
  proxy = await startFaultProxy({ port: target.port });
  target.echo = false;
  const client = await open();
  const untouched = await open();
  await until(() => target.connections.length === 2, 'both connections at the target');
  const [atTarget, untouchedAtTarget] = target.connections as [Target['connections'][number], Target['connections'][number]];

  proxy.drop('upstream');
  client.socket.write('swallowed');
  atTarget.socket.write('still flows');
  await until(() => client.received() === 'still flows', 'the downstream bytes');
  await sleep(200);
  assert.equal(atTarget.received, '', 'the upstream bytes never arrive');

  await proxy.heal();
  await until(() => client.error() !== undefined, 'the reset of the connection that lost bytes');
  assert.equal(client.error()!.code, 'ECONNRESET');
  untouched.socket.write('fine');
  await until(() => untouchedAtTarget.received === 'fine', 'the connection that lost nothing to flow');
  assert.equal(untouched.error(), undefined);
});

test('a dropped downstream swallows the answers while requests reach the target', async () => {
  proxy = await startFaultProxy({ port: target.port });
  const client = await open();
  proxy.drop('downstream');
  client.socket.write('asked');
  await until(() => target.connections[0]?.received === 'asked', 'the request at the target');
  await sleep(200);
  assert.equal(client.received(), '', 'the echo never arrives');
});

test('reset sends RST to both ends of every open connection; with newConnections, new ones too until heal', async () => {
  proxy = await startFaultProxy({ port: target.port });
  const client = await open();
  await roundTrip(client, 'x');
  proxy.reset({ newConnections: true });
  await until(() => client.error() !== undefined, 'the client to see the reset');
  assert.equal(client.error()!.code, 'ECONNRESET');
  await until(() => target.connections[0]!.error !== undefined, 'the target to see the reset');
  assert.equal(target.connections[0]!.error!.code, 'ECONNRESET');

  const refusedAfterConnect = await open().then(
    (next) => until(() => next.error() !== undefined, 'the reset of a new connection').then(() => next.error()!),
    (error: NodeJS.ErrnoException) => error,
  );
  assert.equal(refusedAfterConnect.code, 'ECONNRESET');
  assert.equal(target.connections.length, 1, 'the reset connection never reached the target');

  await proxy.heal();
  await roundTrip(await open(), 'back');
});

test('refuse turns new connections away with ECONNREFUSED and keeps open ones; heal listens on the same port again', async () => {
  proxy = await startFaultProxy({ port: target.port });
  const port = proxy.port;
  const client = await open();
  await proxy.refuse();
  await assert.rejects(open(port), { code: 'ECONNREFUSED' });
  await roundTrip(client, 'still open');
  await proxy.heal();
  assert.equal(proxy.port, port);
  await roundTrip(await open(port), 'accepted again');
});

test('a target that refuses resets the client, and close() ends every connection and the listener', async () => {
  proxy = await startFaultProxy({ port: target.port });
  const client = await open();
  await roundTrip(client, 'x');
  await proxy.close();
  await until(() => client.socket.destroyed || client.socket.readableEnded, 'the client connection to end');
  await assert.rejects(open(proxy.port), { code: 'ECONNREFUSED' });

  const unused = createServer();
  await new Promise<void>((resolve) => unused.listen(0, '127.0.0.1', resolve));
  const deadPort = (unused.address() as AddressInfo).port;
  await new Promise((resolve) => unused.close(resolve));
  proxy = await startFaultProxy({ port: deadPort });
  const orphan = await open();
  await until(() => orphan.error() !== undefined, 'the client to be reset');
  assert.equal(orphan.error()!.code, 'ECONNRESET');
});
