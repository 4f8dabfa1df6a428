#!/usr/bin/env node
// `npm run bench`: benchmarks (not tests) against a throwaway Kafka and Postgres on
// loopback; prints the figures and records them with the command, machine and date
// in docs/benchmarks.md.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { startEphemeralInfra } from '../infra/local/ephemeral.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const infra = await startEphemeralInfra({ root, kind: 'bench' });
let output = '';
const code = await new Promise((resolve) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/messaging/bench/pipeline.bench.ts'], {
    cwd: root,
    env: { ...process.env, TEST_KAFKA_BROKERS: infra.kafkaBrokers, TEST_DATABASE_URL: infra.databaseUrl, KAFKAJS_NO_PARTITIONER_WARNING: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout.on('data', (chunk) => {
    output += chunk;
    process.stdout.write(chunk);
  });
  child.on('exit', (exitCode) => resolve(exitCode ?? 1));
});
await infra.stop();
const line = output.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
if (code !== 0 || !line) process.exit(code || 1);

const result = JSON.parse(line.slice('BENCH_RESULT '.length));
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const section = `## Messaging pipeline — ${new Date().toISOString().slice(0, 10)}

Command: \`npm run bench\` (BENCH_BACKLOG=${result.backlog}). Machine: ${machine}; Kafka and Postgres on the same
machine, shared and noisy. One messaging process, 6 partitions, 100 rooms, 100-character messages.

| measure | result | one bare kafkajs hop, same run | target |
|---|---|---|---|
| persisted and published from a backlog | ${result.throughput.toLocaleString('en')} messages/s | | ≥ 10,000 messages/s |
${result.latency
  .map(
    (l) =>
      `| send → chat.events at ${l.rate.toLocaleString('en')} messages/s (two Kafka hops and a Postgres transaction) | p50 ${l.p50} ms, p99 ${l.p99} ms, max ${l.max} ms (${l.delivered}/${l.sent}) | p50 ${l.hop.p50} ms, p99 ${l.hop.p99} ms | ${l.rate === 2000 ? 'p99 < 25 ms' : '—'} |`,
  )
  .join('\n')}
`;
const file = `${root}/docs/benchmarks.md`;
const header = '# Benchmarks\n\nFigures from `npm run bench`, newest first. Each section names its command, machine and date.\n\n';
const previous = existsSync(file) ? readFileSync(file, 'utf8').replace(header, '') : '';
writeFileSync(file, `${header}${section}\n${previous}`);
console.log(`recorded in docs/benchmarks.md`);
