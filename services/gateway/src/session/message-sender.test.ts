// The one send path, on the in-memory room store and command log: what reaches the log, in what order, and what
// a refused or failed send answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { UserRef } from '@chat/protocol';
import { ProduceRejectedError } from '@chat/kafka';
import { ClientError, type Logger } from '@chat/runtime';
import { MemoryCommandLog } from '../memory/command-log';
import { MemoryRoomStore } from '../memory/room-store';
import { MembershipCache } from './membership-cache';
import { MessageSender, roomCommand, UNAVAILABLE_RETRY_MS } from './message-sender';
import { SendRateLimiter } from './send-rate';

const alice: UserRef = { id: '00000000-0000-4000-8000-0000000000a1', name: 'alice' };
const bob: UserRef = { id: '00000000-0000-4000-8000-0000000000b0', name: 'bob' };
const logger = { error() {} } as unknown as Logger;

function setUp(rate = new SendRateLimiter(1_000, 1_000)) {
  const store = new MemoryRoomStore();
  const log = new MemoryCommandLog();
  const sender = new MessageSender(store, new MembershipCache(store), log, logger, rate);
  const room = store.addRoom('general', [alice.id]).id;
  return { store, log, sender, room };
}

const refusal = (code: string) => (error: unknown) => error instanceof ClientError && error.code === code;

test('sends accepted one after another reach the log in that order, before any is durable', async () => {
  const { log, sender, room } = setUp();
  log.holding = true;
  const accepted = [];
  for (const clientMsgId of ['a', 'b', 'c']) accepted.push(await sender.accept(alice, roomCommand({ type: 'send', room, clientMsgId, text: clientMsgId })));
  assert.deepEqual(log.commands.map((command) => command.clientMsgId), ['a', 'b', 'c']);
  log.settle();
  await Promise.all(accepted.map(({ durable }) => durable));
  assert.deepEqual(log.commands[0], { ...log.commands[0], v: 1, kind: 'message', room, sender: alice, text: 'a' });
});

test('a non-member, an unknown room, bad text and someone else\'s message are refused, and nothing is appended', async () => {
  const { store, log, sender, room } = setUp();
  store.appendMessage(room, bob);
  await assert.rejects(sender.send(bob, roomCommand({ type: 'send', room, clientMsgId: 'x', text: 'hi' })), refusal('forbidden'));
  const unknown = '00000000-0000-4000-8000-00000000dead';
  await assert.rejects(sender.send(alice, roomCommand({ type: 'send', room: unknown, clientMsgId: 'x', text: 'hi' })), refusal('not_found'));
  await assert.rejects(sender.send(alice, roomCommand({ type: 'send', room, clientMsgId: 'x', text: ' ' })), refusal('invalid_input'));
  await assert.rejects(sender.send(alice, roomCommand({ type: 'edit', room, target: 1, clientMsgId: 'x', text: 'mine?' })), refusal('forbidden'));
  await assert.rejects(sender.send(alice, roomCommand({ type: 'delete', room, target: 9, clientMsgId: 'x' })), refusal('not_found'));
  assert.deepEqual(log.commands, []);
});

test('a send the log cannot make durable is answered unavailable, to be retried with the same clientMsgId', async () => {
  const { log, sender, room } = setUp();
  log.holding = true;
  const sent = sender.send(alice, roomCommand({ type: 'send', room, clientMsgId: 'k', text: 'hi' }));
  await new Promise<void>((resolve) => setImmediate(resolve));
  log.settle(new Error('broker unreachable'));
  await assert.rejects(sent, refusal('unavailable'));
});

test('a send the producer gave up on (its queue full, or past the send deadline) is unavailable with a retry hint', async () => {
  for (const reason of ['queue_full', 'timeout'] as const) {
    const { log, sender, room } = setUp();
    log.holding = true;
    const sent = sender.send(alice, roomCommand({ type: 'send', room, clientMsgId: reason, text: 'hi' }));
    await new Promise<void>((resolve) => setImmediate(resolve));
    log.settle(new ProduceRejectedError(reason, 'Kafka away'));
    await assert.rejects(sent, (error: unknown) => {
      assert.ok(error instanceof ClientError && error.code === 'unavailable', String(error));
      assert.equal(error.retryAfterMs, UNAVAILABLE_RETRY_MS);
      assert.match(error.message, new RegExp(`${reason}.*same clientMsgId`));
      return true;
    });
  }
});

test('past the burst, sends are refused with the wait, before any lookup', async () => {
  const { log, sender, room } = setUp(new SendRateLimiter(1, 2, () => 0));
  await sender.send(alice, roomCommand({ type: 'send', room, clientMsgId: '1', text: 'a' }));
  await sender.send(alice, roomCommand({ type: 'send', room, clientMsgId: '2', text: 'b' }));
  await assert.rejects(
    sender.send(alice, roomCommand({ type: 'send', room, clientMsgId: '3', text: 'c' })),
    (error: unknown) => refusal('rate_limited')(error) && (error as ClientError).retryAfterMs === 1_000,
  );
  assert.equal(log.commands.length, 2);
});
