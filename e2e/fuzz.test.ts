// The black-box fuzz run of `npm test` (about a minute), and of `npm run fuzz -- --minutes N` for longer runs
// (FUZZ_SECONDS). It prints what it tried; see e2e/fuzz/black-box.ts for what it sends and checks.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { startTestStack, testInfra, type TestStack } from '@chat/testkit';
import { runBlackBoxFuzz } from './fuzz/black-box';

const seconds = Number(process.env.FUZZ_SECONDS ?? 40);
let stack: TestStack;

before(async () => {
  // Limits high enough that the generated traffic reaches validation and storage rather than the rate limiter.
  stack = await startTestStack({ presence: true, env: { SEND_RATE_PER_SECOND: '10000', SEND_BURST: '10000', WS_FRAME_RATE_PER_SECOND: '10000', WS_FRAME_BURST: '10000', MAX_STREAMS_PER_USER: '1000' } });
});
after(() => stack?.stop());

test(`${seconds} s of hostile frames, bodies, queries, cursors and headers on every transport: nothing exits, stalls, answers 5xx or lands in the dead-letter topic`, async () => {
  const admin = new Kafka({ clientId: 'fuzz', brokers: testInfra().kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const report = await runBlackBoxFuzz(
      {
        gateway: stack.gateways[0]!,
        services: [...stack.gateways, stack.messaging, stack.presence!],
        deadLetters: async () => (await admin.fetchTopicOffsets(stack.topics.names.deadLetters)).reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0),
      },
      { seconds },
    );
    // The figures of the run, for the log (what was tried per kind and transport).
    console.warn(`fuzz report: ${JSON.stringify(report)}`);
    const total = Object.values(report.tried).reduce((sum, n) => sum + n, 0);
    assert.ok(total > 1_000, `tried ${total} inputs`);
    assert.deepEqual(report.exited, [], 'no service exited');
    assert.deepEqual(report.serverErrors, {}, 'no 5xx answer');
    assert.equal(report.notReady, 0, '/readyz stayed 200');
    assert.equal(report.deadLetters, 0, 'everything a gateway accepted was storable');
    assert.ok(report.gatewayRssMb.after < report.gatewayRssMb.before + 200, `gateway RSS ${report.gatewayRssMb.before} → ${report.gatewayRssMb.after} MB`);
  } finally {
    await admin.disconnect();
  }
});
