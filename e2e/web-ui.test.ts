import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { ApiClient, startTestStack, waitUntil, type TestStack } from '@chat/testkit';
import { createRoom, joinRoom, launchChromium, messageTexts, screenshot, send, signIn, waitForMessage, WEB_DIST, type BrowserUser } from './browser';

let stack: TestStack;
let browser: Browser;
let gateway: string;
const users: BrowserUser[] = [];

before(async () => {
  [stack, browser] = await Promise.all([
    startTestStack({ presence: true, env: { WEB_ROOT: WEB_DIST, PRESENCE_HEARTBEAT_MS: '500', SEND_BURST: '200' } }),
    launchChromium(),
  ]);
  gateway = stack.gateways[0]!.url;
});
after(async () => {
  await browser?.close();
  await stack?.stop();
});

async function user(name: string, transport?: string): Promise<BrowserUser> {
  const signedIn = await signIn(browser, gateway, name, transport);
  users.push(signedIn);
  return signedIn;
}

test('two users in two browsers chat in real time, see each other online and typing, and edit and delete', async () => {
  const signInPage = await browser.newPage();
  await signInPage.goto(gateway);
  await screenshot(signInPage, 'sign-in');
  await signInPage.close();

  const alice = await user('alice');
  const bob = await user('bob');
  assert.match(await alice.status.textContent() ?? '', /Connected · WebSocket/);
  const roomId = await createRoom(alice, 'general');
  await joinRoom(bob, roomId, 'general');

  await send(alice, 'Hi Bob! The notes are at https://example.com/notes.');
  await waitForMessage(bob, 'Hi Bob!');
  await bob.page.getByTestId('composer').fill('Hi Alice,');
  await bob.page.getByTestId('composer').press('Shift+Enter');
  await bob.page.getByTestId('composer').pressSequentially('thanks — reading them now.');
  await alice.page.getByTestId('typing').getByText('bob is typing…').waitFor();
  await bob.page.getByTestId('composer').press('Enter');
  const reply = await waitForMessage(alice, 'thanks — reading them now.');
  assert.equal(await reply.textContent(), 'Hi Alice,\nthanks — reading them now.');
  assert.equal(await alice.page.getByTestId('pending-message').count(), 0, 'own messages are confirmed, not left pending');

  await alice.page.getByTestId('online-list').getByText('bob').waitFor();
  await bob.page.getByTestId('online-list').getByText('alice').waitFor();

  await send(alice, 'This has a tpyo');
  const typo = await waitForMessage(alice, 'This has a tpyo');
  await typo.hover();
  await alice.page.getByRole('button', { name: 'Edit message' }).last().click();
  await alice.page.getByLabel('New text of the message').fill('This had a typo');
  await alice.page.getByLabel('New text of the message').press('Enter');
  assert.equal(await (await waitForMessage(bob, 'This had a typo')).textContent(), 'This had a typo (edited)');
  await screenshot(alice.page, 'chat');
  await send(alice, 'Oops, wrong room');
  await (await waitForMessage(bob, 'Oops, wrong room')).waitFor();
  await (await waitForMessage(alice, 'Oops, wrong room')).hover();
  await alice.page.getByRole('button', { name: 'Delete message' }).last().click();
  await bob.page.getByText('Message deleted').waitFor();

  // A direct message from the online list, counted as unread on the other side.
  await bob.page.getByRole('button', { name: 'Message alice directly' }).click();
  await bob.page.getByTestId('room-title').getByText('alice').waitFor();
  await send(bob, 'psst, a word in private');
  await alice.page.getByTestId('dm-list').getByTestId('unread').getByText('1').waitFor();
  assert.equal(await alice.page.getByTestId('room-list').getByTestId('unread').count(), 0, 'the room on screen has nothing unread');
  await screenshot(alice.page, 'unread-dm');
  await alice.page.getByTestId('dm-list').getByText('bob').click();
  await waitForMessage(alice, 'psst, a word in private');
  await alice.page.getByTestId('dm-list').getByTestId('unread').waitFor({ state: 'detached' });
});

test('one user on SSE and one on long polling chat with each other, and each sees its transport', async () => {
  const carol = await user('carol', 'sse');
  const dave = await user('dave', 'poll');
  assert.match(await carol.status.textContent() ?? '', /Connected · SSE/);
  assert.match(await dave.status.textContent() ?? '', /Connected · Long polling/);
  const roomId = await createRoom(carol, 'fallbacks');
  await joinRoom(dave, roomId, 'fallbacks');

  await send(carol, 'sent over HTTP, received over SSE');
  await waitForMessage(dave, 'sent over HTTP, received over SSE');
  await send(dave, 'and this one comes back by long polling');
  await waitForMessage(carol, 'and this one comes back by long polling');
  // Dave's own message shows as delivered once his next poll brings it back, independently of Carol's stream.
  await waitForMessage(dave, 'and this one comes back by long polling');
  await screenshot(dave.page, 'long-polling');
  assert.deepEqual(await messageTexts(carol), await messageTexts(dave));
});

test('going offline and back loses nothing: missed messages arrive once and in order, and a message written offline is delivered', async () => {
  const erin = await user('erin');
  const frank = await user('frank');
  const roomId = await createRoom(erin, 'offline');
  await joinRoom(frank, roomId, 'offline');
  await send(frank, 'before the drop');
  await waitForMessage(erin, 'before the drop');

  await erin.context.setOffline(true);
  await erin.status.and(erin.page.locator('[data-state=offline]')).waitFor();
  assert.match(await erin.status.textContent() ?? '', /Offline/);
  const missed = ['missed one', 'missed two', 'missed three'];
  for (const text of missed) {
    await send(frank, text);
    await waitForMessage(frank, text);
  }
  await send(erin, 'written while offline');
  await erin.page.getByTestId('pending-message').and(erin.page.locator('[data-state=sending]')).waitFor();
  await screenshot(erin.page, 'offline');

  await erin.context.setOffline(false);
  await erin.status.and(erin.page.locator('[data-state=open]')).waitFor();
  await waitForMessage(frank, 'written while offline');
  await waitForMessage(erin, 'written while offline');
  const expected = ['before the drop', ...missed, 'written while offline'];
  assert.deepEqual(await messageTexts(erin), expected);
  assert.deepEqual(await messageTexts(frank), expected);
  assert.equal(await erin.page.getByTestId('pending-message').count(), 0);
});

test('HTML and script in a message are shown as literal text and never run; only http(s) links are clickable', async () => {
  const mallory = await user('mallory');
  const victim = await user('victim');
  const roomId = await createRoom(mallory, 'payloads');
  await joinRoom(victim, roomId, 'payloads');
  const payloads = [
    '<img src=x onerror="window.__pwned = 1">',
    '<script>window.__pwned = 2</script>',
    '<a href="javascript:window.__pwned=3">click</a> javascript:window.__pwned=4',
    'safe: https://example.org/page',
  ];
  for (const text of payloads) await send(mallory, text);
  await waitForMessage(victim, 'safe: https://example.org/page');

  assert.deepEqual(await messageTexts(victim), payloads);
  const list = victim.page.getByTestId('message-list');
  assert.equal(await list.locator('img, script').count(), 0);
  const links = list.locator('a');
  assert.equal(await links.count(), 1);
  assert.equal(await links.getAttribute('href'), 'https://example.org/page');
  assert.equal(await links.getAttribute('rel'), 'noopener noreferrer');
  assert.equal(await links.getAttribute('target'), '_blank');
  await list.getByText('click').click();
  assert.equal(await victim.page.evaluate(() => (globalThis as { __pwned?: number }).__pwned), undefined);
});

test('scrolling up through a long room loads older history page by page, back to the first message', async () => {
  const api = await ApiClient.login(gateway, 'historian');
  const room = await api.createRoom('archive');
  for (let i = 1; i <= 120; i++) {
    const { status } = await api.request('POST', `/api/rooms/${room.id}/messages`, { clientMsgId: `h${i}`, text: `entry ${i}` });
    assert.equal(status, 202);
  }
  const reader = await user('reader');
  await joinRoom(reader, room.id, 'archive');
  await waitForMessage(reader, 'entry 120');
  assert.ok((await reader.page.getByTestId('message').count()) <= 60, 'only the latest page at first');

  const scroller = reader.page.getByTestId('message-scroller');
  const messages = reader.page.getByTestId('message');
  const first = reader.page.getByTestId('message-text').getByText('entry 1', { exact: true });
  for (let page = 0; page < 5 && (await first.count()) === 0; page++) {
    const shown = await messages.count();
    await scroller.evaluate((element) => element.scrollTo({ top: 0 }));
    await waitUntil(async () => (await messages.count()) > shown, 10_000, 'an older page after scrolling up');
  }
  await reader.page.getByText('This is the beginning of the room.').waitFor();
  const texts = await messageTexts(reader);
  assert.deepEqual(texts, Array.from({ length: 120 }, (_, i) => `entry ${i + 1}`));
});

test("the app runs under the gateway's security headers: no Content-Security-Policy violation on any page of this file", async () => {
  assert.ok(users.length >= 4, `${users.length} users signed in`);
  const headers = users[0]!.documentHeaders;
  assert.match(headers['content-security-policy'] ?? '', /default-src 'self'.*frame-ancestors 'none'/);
  assert.equal(headers['x-content-type-options'], 'nosniff');
  assert.equal(headers['referrer-policy'], 'no-referrer');
  assert.equal(headers['strict-transport-security'], undefined, 'no HSTS over plain http');
  for (const user of users) assert.deepEqual(user.cspViolations, [], `${user.name}'s page`);
});
