import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTransientKafkaError, retryWhileStarting } from './startup';

const kafkaError = (name: string, retriable?: boolean) => Object.assign(new Error(name), { name, ...(retriable === undefined ? {} : { retriable }) });

/** A clock that the sleeps move: no real time passes. */
function fakeTime() {
  let t = 0;
  const waits: number[] = [];
  return { waits, now: () => t, sleep: async (ms: number) => void (waits.push(ms), (t += ms)) };
}

test('a connection reset at start-up is tried again with a doubling backoff, and the start goes on once it passes', async () => {
  const time = fakeTime();
  let calls = 0;
  const result = await retryWhileStarting(
    'connecting',
    async () => {
      if (++calls < 4) throw kafkaError('KafkaJSConnectionError', true);
      return 'connected';
    },
    { ...time, initialDelayMs: 100 },
  );
  assert.equal(result, 'connected');
  assert.deepEqual(time.waits, [100, 200, 400]);
});

test('kafkajs retries spent against a broker out of reach are tried again too, until the deadline, then thrown', async () => {
  const time = fakeTime();
  const spent = kafkaError('KafkaJSNumberOfRetriesExceeded', false);
  await assert.rejects(
    retryWhileStarting('joining', () => Promise.reject(spent), { ...time, deadlineMs: 10_000, initialDelayMs: 1_000, maxDelayMs: 4_000 }),
    (error) => error === spent,
  );
  assert.deepEqual(time.waits, [1_000, 2_000, 4_000]);
});

test('a final error (authentication, a missing topic, a bug) fails the start at once', async () => {
  const time = fakeTime();
  const final = kafkaError('KafkaJSSASLAuthenticationError', false);
  await assert.rejects(retryWhileStarting('connecting', () => Promise.reject(final), time), (error) => error === final);
  await assert.rejects(retryWhileStarting('connecting', () => Promise.reject(new TypeError('x is undefined')), time), TypeError);
  assert.deepEqual(time.waits, []);
  assert.equal(isTransientKafkaError('not an error'), false);
});
