/**
 * Presence benchmark (not a test): 10,000 users connected through two
 * gateways, reported as gateways report them; measures the heartbeat topic's
 * message rate and the presence service's CPU. Run through `npm run bench`.
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { encodeHeartbeat } from '@chat/kafka';
import { createTestTopics, startService, testInfra } from '@chat/testkit';

const USERS = Number(process.env.BENCH_PRESENCE_USERS ?? 10_000);
const HEARTBEAT_MS = 30_000;
const MEASURE_MS = Number(process.env.BENCH_PRESENCE_SECONDS ?? 60) * 1000;
const GATEWAYS = 2;

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const topics = await createTestTopics(6);
const presence = await startService('presence', {
  KAFKA_BROKERS: testInfra().kafkaBrokers.join(','),
  KAFKA_TOPIC_PREFIX: topics.prefix,
  PRESENCE_CONSUMER_GROUP: `${topics.prefix}presence`,
  PRESENCE_TTL_MS: String(HEARTBEAT_MS * 2),
});
const kafka = new Kafka({ brokers: testInfra().kafkaBrokers, logLevel: logLevel.NOTHING });
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
await producer.connect();
const users = Array.from({ length: USERS }, (_, i) => ({ id: randomUUID(), name: `u${i}` }));

/** What one gateway sends per user: one record, all of the gateway's users in one request. */
async function report(gateway: number, batch: typeof users): Promise<void> {
  await producer.send({
    topic: topics.names.heartbeats,
    acks: -1,
    messages: batch.map((user) => ({ key: user.id, value: encodeHeartbeat({ gateway: `g${gateway}`, user, connections: 1, ttlMs: HEARTBEAT_MS * 2 }) })),
  });
}

// Everyone connects: each gateway reports its half at once.
const connectStart = cpuSeconds(presence.process.pid!);
const connectAt = Date.now();
await Promise.all(Array.from({ length: GATEWAYS }, (_, g) => report(g, users.filter((_, i) => i % GATEWAYS === g))));
const admin = kafka.admin();
await admin.connect();
const onlinePublished = async () => (await admin.fetchTopicOffsets(topics.names.presence)).reduce((sum, p) => sum + Number(p.high), 0);
while ((await onlinePublished()) < USERS) await new Promise((resolve) => setTimeout(resolve, 100));
const connectSeconds = (Date.now() - connectAt) / 1000;
const connectCpu = cpuSeconds(presence.process.pid!) - connectStart;

// Steady state: every gateway reports every user every HEARTBEAT_MS, spread over the interval as ticks are.
const steadyStart = cpuSeconds(presence.process.pid!);
const started = Date.now();
let sent = 0;
const slices = HEARTBEAT_MS / 1000;
while (Date.now() - started < MEASURE_MS) {
  const slice = Math.floor((Date.now() - started) / 1000) % slices;
  await Promise.all(
    Array.from({ length: GATEWAYS }, (_, g) =>
      report(g, users.filter((_, i) => i % GATEWAYS === g && i % slices === slice)),
    ),
  );
  sent += Math.ceil(USERS / slices);
  await new Promise((resolve) => setTimeout(resolve, 1000 - ((Date.now() - started) % 1000)));
}
const steadySeconds = (Date.now() - started) / 1000;
const steadyCpu = cpuSeconds(presence.process.pid!) - steadyStart;
const rss = Number(readFileSync(`/proc/${presence.process.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)![1]) / 1024;

await admin.disconnect();
await producer.disconnect();
await presence.stop();

const result = {
  users: USERS,
  heartbeatPerSecond: Math.round(sent / steadySeconds),
  steadyCpuPercent: Math.round((steadyCpu / steadySeconds) * 1000) / 10,
  connectSeconds: Math.round(connectSeconds * 10) / 10,
  connectCpuSeconds: Math.round(connectCpu * 100) / 100,
  rssMiB: Math.round(rss),
};
console.log(
  `presence: ${USERS} users over ${GATEWAYS} gateways; heartbeat topic ${result.heartbeatPerSecond} messages/s (every ${HEARTBEAT_MS / 1000} s); ` +
    `presence CPU ${result.steadyCpuPercent} % of one core; all online in ${result.connectSeconds} s using ${result.connectCpuSeconds} CPU s; RSS ${result.rssMiB} MiB`,
);
const markdown = `## Presence at ${USERS.toLocaleString('en')} connected users

${GATEWAYS} gateways report every user every ${HEARTBEAT_MS / 1000} s (the default), as the gateway's reporter does: one record per user,
one produce request per gateway and tick; TTL ${(HEARTBEAT_MS * 2) / 1000} s. Measured over ${Math.round(steadySeconds)} s of steady state.

| measure | result |
|---|---|
| messages/s on the heartbeat topic | ${result.heartbeatPerSecond} |
| presence service CPU, steady state | ${result.steadyCpuPercent} % of one core |
| ${USERS.toLocaleString('en')} users coming online at once: until every status is published | ${result.connectSeconds} s, ${result.connectCpuSeconds} CPU s |
| presence service RSS | ${result.rssMiB} MiB |
`;
console.log(`BENCH_MARKDOWN ${Buffer.from(markdown).toString('base64')}`);
