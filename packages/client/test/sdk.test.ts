import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import type { MessageEvent } from '@chat/protocol';
import { ApiClient, startProxy, startTestStack, waitUntil, type TestStack } from '@chat/testkit';
import { ChatClient, type ChatClientOptions, type ConnectionStatus } from '../src/index';

let stack: TestStack;
let gateway: string;

before(async () => {
  stack = await startTestStack();
  gateway = stack.gateways[0]!.url;
});
after(() => stack?.stop());

function sdk(user: ApiClient, baseUrl: string, options: Partial<ChatClientOptions> = {}) {
  const client = new ChatClient({
    baseUrl,
    getToken: () => user.token,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    openTimeoutMs: 1_500,
    backoff: { initialMs: 50, maxMs: 200 },
    ...options,
  });
  const messages: MessageEvent[] = [];
  const statuses: ConnectionStatus[] = [];
  client.on('message', (message) => messages.push(message));
  client.on('status', (status) => statuses.push(status));
  return { client, messages, statuses };
}

async function setUp(tag: string, behaviour: Parameters<typeof startProxy>[1] = {}) {
  const user = await ApiClient.login(gateway, `sdk_${tag}`);
  const room = await user.createRoom(tag);
  const proxy = await startProxy(gateway, behaviour);
  return { user, room, proxy };
}

async function roundTrip(client: ChatClient, messages: MessageEvent[], room: string, texts: string[]) {
  for (const text of texts) await client.send(room, text);
  await waitUntil(() => messages.length >= texts.length, 10_000, `${texts.length} messages back`);
  assert.deepEqual(messages.map((m) => m.text), texts);
}

test('the SDK prefers WebSocket when nothing is in the way', async () => {
  const { user, room, proxy } = await setUp('ws-first');
  const { client, messages } = sdk(user, proxy.url, { rooms: [room.id] });
  client.start();
  await waitUntil(() => client.status.state === 'open', 15_000, 'open');
  assert.equal(client.status.transport, 'websocket');
  await roundTrip(client, messages, room.id, ['hello']);
  client.stop();
  await proxy.close();
});

test('when WebSocket upgrades are blocked the SDK falls back to SSE and still sends and receives', async () => {
  const { user, room, proxy } = await setUp('no-ws', { blockUpgrades: true });
  const { client, messages, statuses } = sdk(user, proxy.url, { rooms: [room.id] });
  client.start();
  await waitUntil(() => client.status.state === 'open', 10_000, 'open');
  assert.equal(client.status.transport, 'sse');
  assert.ok(statuses.some((s) => s.transport === 'websocket' && s.state !== 'open'), 'tried WebSocket first');
  await roundTrip(client, messages, room.id, ['over', 'sse']);
  client.stop();
  await proxy.close();
});

test('when SSE is buffered by a proxy as well, the SDK ends up on long polling', async () => {
  const { user, room, proxy } = await setUp('no-sse', { blockUpgrades: true, bufferSse: true });
  const { client, messages } = sdk(user, proxy.url, { rooms: [room.id] });
  client.start();
  await waitUntil(() => client.status.state === 'open', 20_000, 'open');
  assert.equal(client.status.transport, 'poll');
  await roundTrip(client, messages, room.id, ['over', 'long', 'polling']);
  client.stop();
  await proxy.close();
});

test('sends made while offline are queued and delivered once each, in order, after reconnecting', async () => {
  const { user, room, proxy } = await setUp('offline');
  const { client, messages, statuses } = sdk(user, proxy.url, { rooms: [room.id] });
  client.start();
  await waitUntil(() => client.status.state === 'open', 15_000, 'open');
  await roundTrip(client, messages, room.id, ['before']);

  proxy.behaviour.down = true;
  proxy.cut();
  await waitUntil(() => client.status.state !== 'open', 15_000, 'the drop to be noticed');
  const sent = ['while', 'offline', 'in order'].map((text) => client.send(room.id, text));
  assert.equal(client.pendingSends, 3);
  await waitUntil(() => statuses.some((s) => s.state === 'reconnecting' && s.retryAt !== undefined), 15_000, 'a status that shows when it retries');

  proxy.behaviour.down = false;
  await Promise.all(sent);
  await waitUntil(() => messages.length >= 4, 10_000, 'the queued messages');
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(messages.map((m) => m.text), ['before', 'while', 'offline', 'in order']);
  assert.deepEqual(messages.map((m) => m.seq), [2, 3, 4, 5], 'after the user\'s join, seq 1');
  client.stop();
  await proxy.close();
});

test('a dropped connection resumes from the cursor: messages sent meanwhile arrive, none twice', async () => {
  const { user, room, proxy } = await setUp('resume');
  const other = await ApiClient.login(gateway, 'sdk_resume_other');
  await other.joinRoom(room.id);
  const { client, messages } = sdk(user, proxy.url, { rooms: [room.id] });
  client.start();
  await waitUntil(() => client.status.state === 'open', 15_000, 'open');
  await other.request('POST', `/api/rooms/${room.id}/messages`, { clientMsgId: 'a', text: 'a' });
  await waitUntil(() => messages.length === 1, 15_000, 'first message');
  proxy.cut();
  for (const id of ['b', 'c']) await other.request('POST', `/api/rooms/${room.id}/messages`, { clientMsgId: id, text: id });
  await waitUntil(() => messages.length >= 3, 10_000, 'the messages sent during the drop');
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(messages.map((m) => m.text), ['a', 'b', 'c']);
  client.stop();
  await proxy.close();
});

test('edits and deletes arrive as edit and delete events, and typing reaches the other members', async () => {
  const { user, room, proxy } = await setUp('changes');
  const other = await ApiClient.login(gateway, 'sdk_changes_other');
  await other.joinRoom(room.id);
  const watcher = sdk(other, proxy.url, { rooms: [room.id], transports: ['sse'] });
  const changes: string[] = [];
  const typists: string[] = [];
  watcher.client.on('edit', (edit) => changes.push(`edit ${edit.target}: ${edit.text}`));
  watcher.client.on('delete', (deleted) => changes.push(`delete ${deleted.target}`));
  watcher.client.on('typing', (typing) => typists.push(typing.user.name));
  const writer = sdk(user, proxy.url, { rooms: [room.id] });
  watcher.client.start();
  writer.client.start();
  await waitUntil(() => watcher.client.status.state === 'open' && writer.client.status.state === 'open', 15_000, 'both open');

  writer.client.typing(room.id);
  await waitUntil(() => typists.length === 1, 15_000, 'the typing event');
  await writer.client.send(room.id, 'frist');
  // An edit names a stored message: wait until it is (its event arrives).
  await waitUntil(() => watcher.messages.length === 1, 15_000, 'the message');
  // Seqs 1 and 2 are the two joins.
  assert.equal((await user.request('PATCH', `/api/rooms/${room.id}/messages/3`, { clientMsgId: 'fix', text: 'first' })).status, 202);
  await waitUntil(() => changes.length === 1, 15_000, 'the edit');
  assert.equal((await user.request('DELETE', `/api/rooms/${room.id}/messages/3`)).status, 202);
  await waitUntil(() => changes.length === 2, 15_000, 'the edit and the delete');
  assert.deepEqual(changes, ['edit 3: first', 'delete 3']);
  assert.deepEqual(typists, ['sdk_changes']);
  assert.deepEqual(watcher.messages.map((m) => m.text), ['frist']);
  watcher.client.stop();
  writer.client.stop();
  await proxy.close();
});

test('joins and leaves arrive as member_joined and member_left events, once each, and the leaver\'s own leave is the room\'s last', async () => {
  const { user, room, proxy } = await setUp('members');
  const guest = await ApiClient.login(gateway, 'sdk_members_guest');
  const watcher = sdk(user, proxy.url, { rooms: [room.id] });
  const guestClient = sdk(guest, proxy.url, { transports: ['poll'] });
  const seen = (client: ChatClient) => {
    const events: string[] = [];
    client.on('member_joined', (entry) => events.push(`${entry.seq} ${entry.user.name} joined`));
    client.on('member_left', (entry) => events.push(`${entry.seq} ${entry.user.name} left`));
    client.on('message', (message) => events.push(`${message.seq} ${message.text}`));
    return events;
  };
  const [watched, guestSaw] = [seen(watcher.client), seen(guestClient.client)];
  watcher.client.start();
  guestClient.client.start();
  await waitUntil(() => watcher.client.status.state === 'open' && guestClient.client.status.state === 'open', 15_000, 'both open');

  await guest.joinRoom(room.id);
  await waitUntil(() => guestSaw.length === 1, 15_000, 'the guest\'s stream of all rooms to add the room');
  await watcher.client.send(room.id, 'welcome');
  await waitUntil(() => guestSaw.length === 2, 15_000, 'the message');
  assert.equal((await guest.request('POST', `/api/rooms/${room.id}/leave`)).status, 200);
  await watcher.client.send(room.id, 'gone');
  await waitUntil(() => watched.length === 4, 15_000, 'the join, both messages and the leave');
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.deepEqual(watched, ['2 sdk_members_guest joined', '3 welcome', '4 sdk_members_guest left', '5 gone']);
  assert.deepEqual(guestSaw, ['2 sdk_members_guest joined', '3 welcome', '4 sdk_members_guest left']);
  watcher.client.stop();
  guestClient.client.stop();
  await proxy.close();
});
