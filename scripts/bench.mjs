#!/usr/bin/env node
// `npm run bench`: benchmarks (not tests) against a throwaway Kafka and Postgres on
// loopback. Each prints its figures; this script records them, with the command,
// machine and date, at the top of docs/benchmarks.md.
// `npm run bench -- presence` runs only the benchmarks whose path contains that text.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { startEphemeralInfra } from '../infra/local/ephemeral.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const filters = process.argv.slice(2);
const benches = ['services/messaging/bench/pipeline.bench.ts', 'services/presence/bench/presence.bench.ts'].filter(
  (file) => filters.length === 0 || filters.some((filter) => file.includes(filter)),
);

function runBench(file, env) {
  return new Promise((resolve) => {
    let output = '';
    const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', (chunk) => {
      output += chunk;
      for (const line of String(chunk).split('\n')) if (line && !line.startsWith('BENCH_MARKDOWN ')) console.log(line);
    });
    child.on('exit', (code) => {
      const line = output.split('\n').find((l) => l.startsWith('BENCH_MARKDOWN '));
      resolve(code === 0 && line ? Buffer.from(line.slice('BENCH_MARKDOWN '.length), 'base64').toString() : null);
    });
  });
}

const infra = await startEphemeralInfra({ root, kind: 'bench' });
const sections = [];
try {
  const env = { ...process.env, TEST_KAFKA_BROKERS: infra.kafkaBrokers, TEST_DATABASE_URL: infra.databaseUrl, KAFKAJS_NO_PARTITIONER_WARNING: '1' };
  for (const file of benches) {
    const markdown = await runBench(file, env);
    if (!markdown) {
      console.error(`${file} failed`);
      process.exitCode = 1;
      break;
    }
    sections.push(markdown);
  }
} finally {
  await infra.stop();
}
if (process.exitCode) process.exit();

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const command = `npm run bench${filters.length ? ` -- ${filters.join(' ')}` : ''}`;
const run = `# Run of ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC

Command: \`${command}\`. Machine: ${machine}; Kafka and Postgres on the same machine, shared and noisy.

${sections.map((section) => section.replace(/^## /gm, '### ')).join('\n')}`;
const file = `${root}/docs/benchmarks.md`;
const header = '# Benchmarks\n\nFigures from `npm run bench`, newest run first.\n\n';
const previous = existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(4).join('\n') : '';
writeFileSync(file, `${header}${run}\n${previous}`);
console.log('recorded in docs/benchmarks.md');
