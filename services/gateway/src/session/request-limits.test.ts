import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientError } from '@chat/runtime';
import { RequestLimits } from './request-limits';

const settings = { userRatePerSecond: 10, userBurst: 5, createRatePerSecond: 1, createBurst: 2, loginRatePerSecond: 1, loginBurst: 3, streamOpenRatePerSecond: 2, streamOpenBurst: 2 };

function refusal(call: () => void): ClientError | undefined {
  try {
    call();
    return undefined;
  } catch (error) {
    assert.ok(error instanceof ClientError && error.code === 'rate_limited', String(error));
    return error;
  }
}

test("a user's API calls stop at the burst with a retry hint, refill at the rate, and never touch another user's", () => {
  let now = 0;
  const limits = new RequestLimits(settings, () => now);
  for (let i = 0; i < 5; i++) assert.equal(refusal(() => limits.checkUser('u1', 'GET', '/api/rooms')), undefined);
  const refused = refusal(() => limits.checkUser('u1', 'GET', '/api/rooms/:roomId/messages'));
  assert.equal(refused?.retryAfterMs, 100);
  assert.equal(refusal(() => limits.checkUser('u2', 'GET', '/api/rooms')), undefined, 'another user has a bucket of their own');
  assert.ok(refusal(() => limits.checkUserFrame('u1')), 'typing and subscribe frames draw on the same bucket');
  now += 100;
  assert.equal(refusal(() => limits.checkUser('u1', 'GET', '/api/rooms')), undefined);
});

test('sends, edits and deletes have the send limit of their own, not this one', () => {
  const limits = new RequestLimits(settings, () => 0);
  for (let i = 0; i < 50; i++) {
    limits.checkUser('u1', 'POST', '/api/rooms/:roomId/messages');
    limits.checkUser('u1', 'PATCH', '/api/rooms/:roomId/messages/:seq');
    limits.checkUser('u1', 'DELETE', '/api/rooms/:roomId/messages/:seq');
  }
  assert.equal(refusal(() => limits.checkUser('u1', 'GET', '/api/rooms')), undefined);
});

test('room creations, joins and direct conversations have a smaller bucket on top', () => {
  let now = 0;
  const limits = new RequestLimits(settings, () => now);
  limits.checkUser('u1', 'POST', '/api/rooms');
  limits.checkUser('u1', 'POST', '/api/rooms/:roomId/join');
  assert.equal(refusal(() => limits.checkUser('u1', 'POST', '/api/dms'))?.retryAfterMs, 1000);
  assert.equal(refusal(() => limits.checkUser('u1', 'GET', '/api/rooms')), undefined, 'reads go on');
  now += 1000;
  assert.equal(refusal(() => limits.checkUser('u1', 'POST', '/api/dms')), undefined);
});

test('sign-ins are limited per client address', () => {
  const limits = new RequestLimits(settings, () => 0);
  for (let i = 0; i < 3; i++) limits.checkLogin('203.0.113.7');
  assert.match(refusal(() => limits.checkLogin('203.0.113.7'))!.message, /too many sign-ins from this address/);
  assert.equal(refusal(() => limits.checkLogin('198.51.100.2')), undefined);
});

test('streams opened: WebSocket and SSE from a bucket of their own, a long poll (once per answer) from the API one', () => {
  let now = 0;
  const limits = new RequestLimits(settings, () => now);
  limits.checkStreamOpen('u1', false);
  limits.checkStreamOpen('u1', false);
  assert.equal(refusal(() => limits.checkStreamOpen('u1', false))?.retryAfterMs, 500);
  assert.equal(refusal(() => limits.checkStreamOpen('u1', true)), undefined, 'polls go on');
  assert.equal(refusal(() => limits.checkStreamOpen('u2', false)), undefined);
  now += 500;
  assert.equal(refusal(() => limits.checkStreamOpen('u1', false)), undefined);
});
