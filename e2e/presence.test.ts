import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient, PollStream, startService, startTestStack, waitUntil, WsStream, type TestStack } from '@chat/testkit';

// Long enough that a loaded machine's stalls do not outlast it between two heartbeats (every 300 ms).
const TTL_MS = 5_000;
let stack: TestStack;

before(async () => {
  stack = await startTestStack({
    gateways: 2,
    presence: true,
    env: { PRESENCE_HEARTBEAT_MS: '300', PRESENCE_TTL_MS: String(TTL_MS), PRESENCE_POLL_GRACE_MS: '3000' },
  });
});
after(() => stack?.stop());

async function onlineIn(client: ApiClient, room: string): Promise<string[]> {
  const result = await client.request<{ online: Array<{ name: string }> }>('GET', `/api/rooms/${room}/presence`);
  assert.equal(result.status, 200);
  return result.body.online.map((user) => user.name).sort();
}

function presenceEvents(stream: WsStream, name: string): string[] {
  return stream.frames
    .filter((f) => f.type === 'presence' && (f as { user: { name: string } }).user.name === name)
    .map((f) => (f as { status: string }).status);
}

test('a user with two tabs on two gateways stays online until both close; watchers get one event per change', async () => {
  const [first, second] = stack.gateways.map((g) => g.url) as [string, string];
  const watcher = await ApiClient.login(first, 'p_watcher');
  const tabs = await ApiClient.login(second, 'p_tabs');
  const room = await watcher.createRoom('presence');
  await tabs.joinRoom(room.id);
  const watching = await WsStream.forUser(watcher, { rooms: room.id });

  const tabOne = await WsStream.open(first, { rooms: room.id }, { authorization: `Bearer ${tabs.token}` });
  const tabTwo = await WsStream.open(second, { rooms: room.id }, { authorization: `Bearer ${tabs.token}` });
  await waitUntil(async () => (await onlineIn(watcher, room.id)).includes('p_tabs'), 15_000, 'p_tabs online');
  await waitUntil(() => presenceEvents(watching, 'p_tabs').length === 1, 15_000, 'an online event');

  await tabOne.close();
  await new Promise((resolve) => setTimeout(resolve, TTL_MS + 500));
  assert.ok((await onlineIn(watcher, room.id)).includes('p_tabs'), 'still online with one tab open');

  await tabTwo.close();
  await waitUntil(async () => !(await onlineIn(watcher, room.id)).includes('p_tabs'), 15_000, 'p_tabs offline');
  await waitUntil(() => presenceEvents(watching, 'p_tabs').length === 2, 15_000, 'an offline event');
  assert.deepEqual(presenceEvents(watching, 'p_tabs'), ['online', 'offline']);
  await watching.close();
});

test("someone online who joins a room is announced to its members, those on another gateway included", async () => {
  const [first, second] = stack.gateways.map((g) => g.url) as [string, string];
  const owner = await ApiClient.login(first, 'p_owner');
  const joiner = await ApiClient.login(second, 'p_joiner');
  const room = await owner.createRoom('joined while online');
  const watching = await WsStream.forUser(owner, { rooms: room.id });
  // Online already, as the owner's gateway sees it, in no room the owner shares: when it joins, its status does not
  // change, so no presence record says anything.
  const online = await WsStream.forUser(joiner);
  const ownRoom = await joiner.createRoom('joiner alone');
  const joinerOnFirst = await ApiClient.login(first, 'p_joiner');
  await waitUntil(async () => (await onlineIn(joinerOnFirst, ownRoom.id)).includes('p_joiner'), 15_000, 'the joiner online on the first gateway');
  assert.deepEqual(presenceEvents(watching, 'p_joiner'), [], 'nothing before the join');

  await joiner.joinRoom(room.id);
  await waitUntil(() => presenceEvents(watching, 'p_joiner').length === 1, 15_000, 'the joiner announced online');
  assert.deepEqual(presenceEvents(watching, 'p_joiner'), ['online']);
  assert.deepEqual(await onlineIn(owner, room.id), ['p_joiner', 'p_owner']);
  await online.close();
  await watching.close();
});

test('someone online who leaves a room is announced offline there, to members on either gateway, and stays online elsewhere', async () => {
  const [first, second] = stack.gateways.map((g) => g.url) as [string, string];
  const owner = await ApiClient.login(first, 'p_stayer');
  const leaver = await ApiClient.login(second, 'p_leaver');
  const room = await owner.createRoom('left while online');
  const elsewhere = await leaver.createRoom('still here');
  await leaver.joinRoom(room.id);
  const watchingHere = await WsStream.forUser(owner, { rooms: room.id });
  const watchingThere = await WsStream.open(second, { rooms: room.id }, { authorization: `Bearer ${owner.token}` });
  const online = await WsStream.forUser(leaver);
  for (const watching of [watchingHere, watchingThere]) {
    await waitUntil(() => presenceEvents(watching, 'p_leaver').length === 1, 15_000, 'the leaver online');
  }

  assert.equal((await leaver.request('POST', `/api/rooms/${room.id}/leave`)).status, 200);
  for (const watching of [watchingHere, watchingThere]) {
    await waitUntil(() => presenceEvents(watching, 'p_leaver').length === 2, 15_000, 'the leaver gone from the room');
    assert.deepEqual(presenceEvents(watching, 'p_leaver'), ['online', 'offline']);
  }
  assert.deepEqual(await onlineIn(owner, room.id), ['p_stayer']);
  assert.deepEqual(await onlineIn(leaver, elsewhere.id), ['p_leaver'], 'still online in the rooms it is in');
  await Promise.all([online.close(), watchingHere.close(), watchingThere.close()]);
});

test('a gateway killed with SIGKILL takes its users offline within the TTL; users of the other gateway stay online', async () => {
  const [, survivor] = stack.gateways as [(typeof stack.gateways)[0], (typeof stack.gateways)[0]];
  const doomed = await startService('gateway', { ...stack.env, INSTANCE_ID: `${stack.topics.prefix}doomed` });
  const stranded = await ApiClient.login(doomed.url, 'p_stranded');
  const safe = await ApiClient.login(survivor.url, 'p_safe');
  const room = await safe.createRoom('crash');
  await stranded.joinRoom(room.id);
  await WsStream.open(doomed.url, { rooms: room.id }, { authorization: `Bearer ${stranded.token}` });
  const safeStream = await WsStream.forUser(safe, { rooms: room.id });
  await waitUntil(async () => (await onlineIn(safe, room.id)).length === 2, 15_000, 'both online');

  const killedAt = Date.now();
  await doomed.kill();
  await waitUntil(async () => (await onlineIn(safe, room.id)).join() === 'p_safe', TTL_MS + 15_000, 'p_stranded offline');
  const after = Date.now() - killedAt;
  assert.ok(after >= TTL_MS - 500, `offline only after the TTL, not at once (${after} ms)`);
  assert.deepEqual(presenceEvents(safeStream, 'p_safe').filter((s) => s === 'offline'), []);
  await safeStream.close();
});

test('restarting the presence service does not flap anyone', async () => {
  const gateway = stack.gateways[0]!.url;
  const steady = await ApiClient.login(gateway, 'p_steady');
  const room = await steady.createRoom('restart');
  const stream = await WsStream.forUser(steady, { rooms: room.id });
  await waitUntil(async () => (await onlineIn(steady, room.id)).includes('p_steady'), 15_000, 'online');
  await waitUntil(() => presenceEvents(stream, 'p_steady').length === 1, 15_000, 'own online event');

  assert.equal(await stack.presence!.stop(), 0);
  stack.presence = await stack.startPresence();
  await new Promise((resolve) => setTimeout(resolve, TTL_MS * 2));
  assert.deepEqual(presenceEvents(stream, 'p_steady'), ['online'], 'no offline/online flap across the restart');
  assert.deepEqual(await onlineIn(steady, room.id), ['p_steady']);
  await stream.close();
});

test('a user whose gateway died while presence was down still goes offline after it restarts', async () => {
  const observer = await ApiClient.login(stack.gateways[0]!.url, 'p_observer');
  const doomed = await startService('gateway', { ...stack.env, INSTANCE_ID: `${stack.topics.prefix}doomed2` });
  const ghost = await ApiClient.login(doomed.url, 'p_ghost');
  const room = await observer.createRoom('ghosts');
  await ghost.joinRoom(room.id);
  await WsStream.open(doomed.url, { rooms: room.id }, { authorization: `Bearer ${ghost.token}` });
  await waitUntil(async () => (await onlineIn(observer, room.id)).includes('p_ghost'), 15_000, 'p_ghost online');

  assert.equal(await stack.presence!.stop(), 0);
  await doomed.kill();
  stack.presence = await stack.startPresence();
  await waitUntil(async () => !(await onlineIn(observer, room.id)).includes('p_ghost'), TTL_MS + 10_000, 'p_ghost offline');
});

test('presence scales out by partitions of users: with two replicas, and after one leaves, nobody flaps and changes still flow', async () => {
  const gateway = stack.gateways[1]!.url;
  const second = await stack.startPresence();
  const users = await Promise.all(['p_r1', 'p_r2', 'p_r3', 'p_r4'].map((name) => ApiClient.login(gateway, name)));
  const room = await users[0]!.createRoom('replicas');
  for (const user of users.slice(1)) await user.joinRoom(room.id);
  const streams = await Promise.all(users.map((user) => WsStream.forUser(user, { rooms: room.id })));
  await waitUntil(async () => (await onlineIn(users[0]!, room.id)).length === 4, 10_000, 'all four online');

  // The first replica leaves; the second now owns every partition and rebuilds their statuses.
  assert.equal(await stack.presence!.stop(), 0);
  stack.presence = second;
  await new Promise((resolve) => setTimeout(resolve, TTL_MS * 2));
  const watcher = streams[0]!;
  for (const name of ['p_r2', 'p_r3', 'p_r4']) assert.deepEqual(presenceEvents(watcher, name).filter((s) => s === 'offline'), [], `${name} never flapped`);
  assert.equal((await onlineIn(users[0]!, room.id)).length, 4);

  await streams[3]!.close();
  await waitUntil(async () => !(await onlineIn(users[0]!, room.id)).includes('p_r4'), 15_000, 'p_r4 offline through the remaining replica');
  await Promise.all(streams.slice(0, 3).map((stream) => stream.close()));
});

test('a long poller counts as online while it keeps polling, and goes offline once it stops', async () => {
  const gateway = stack.gateways[0]!.url;
  const watcher = await ApiClient.login(gateway, 'p_poll_watcher');
  const poller = await ApiClient.login(gateway, 'p_poller');
  const room = await watcher.createRoom('polling');
  await poller.joinRoom(room.id);
  const watching = await WsStream.forUser(watcher, { rooms: room.id });
  const polling = PollStream.start(poller, { rooms: room.id }, 1);
  await waitUntil(async () => (await onlineIn(watcher, room.id)).includes('p_poller'), 15_000, 'the poller online');
  const checks: boolean[] = [];
  for (let i = 0; i < 6; i++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    checks.push((await onlineIn(watcher, room.id)).includes('p_poller'));
  }
  assert.ok(polling.polls >= 2, `polled ${polling.polls} times`);
  assert.deepEqual(checks, [true, true, true, true, true, true], 'online across polls and the gaps between them');
  assert.deepEqual(presenceEvents(watching, 'p_poller'), ['online'], 'no flap between polls');
  await polling.close();
  await waitUntil(async () => !(await onlineIn(watcher, room.id)).includes('p_poller'), 15_000, 'the poller offline');
  await waitUntil(() => presenceEvents(watching, 'p_poller').length === 2, 15_000, 'the offline event');
  await watching.close();
});
