#!/usr/bin/env node
// `npm run bench`: benchmarks (not tests) against a throwaway Kafka and Postgres on
// loopback. Each prints its figures; this script records them, with the command,
// machine and date, in docs/benchmarks.md, where they replace that benchmark's previous run.
// `npm run bench -- presence` runs only the benchmarks whose path contains that text; `--list` names them and runs none.
// It holds /tmp/chat-heavy.lock for the whole run (taking it unless an ancestor holds it),
// and raises the open-file limit of every benchmark process and the servers they start.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { canKeepKafkaInMemory, startEphemeralInfra } from '../infra/local/ephemeral.mjs';
import { HEADER, benchSection, commandLine, replaceBenchSection } from './bench-doc.mjs';
import { ensureCentrifugo, ensureRsvgConvert, openFileLimit, reexecUnderHeavyLock, writePng } from './bench-tools.mjs';

const BENCHES = [
  'services/messaging/bench/pipeline.bench.ts',
  'services/presence/bench/presence.bench.ts',
  'services/gateway/bench/idle-connections.bench.ts',
  'services/gateway/bench/fanout.bench.ts',
  'services/gateway/bench/latency.bench.ts',
  'services/gateway/bench/tracing-overhead.bench.ts',
  'services/gateway/bench/abuse.bench.ts',
];
const options = process.argv.slice(2).filter((arg) => arg.startsWith('--'));
const filters = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const benches = BENCHES.filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)));
// Before the heavy lock: a listing waits for no one, and a mistyped option must not start a quarter-hour run of all.
if (options.some((arg) => arg === '--list' || arg === '--help')) {
  console.log(`npm run bench [-- <filter>...] [--node=<binary>[@<flags>]]... [--rounds=N]; a filter picks the benchmarks whose path contains it:
${benches.map((file) => `  ${file}`).join('\n')}`);
  process.exit(0);
}
const unknown = options.filter((arg) => !arg.startsWith('--node=') && !arg.startsWith('--rounds='));
if (unknown.length > 0) throw new Error(`npm run bench: unknown option ${unknown.join(' ')} (--list names the benchmarks)`);

reexecUnderHeavyLock();

const root = fileURLToPath(new URL('..', import.meta.url));
// `--node=<binary>[@<flags>]`, repeated: each benchmark runs on each of these in turn, `--rounds=N` times over
// (alternated, so that the machine's noise falls on all alike), its servers on the same Node, with the flags as
// BENCH_NODE_OPTIONS. `--node=default` is the Node this script runs on. Without it: this Node, once.
const runtimes = options
  .filter((arg) => arg.startsWith('--node='))
  .map((arg) => {
    // At the first @ only: the flags may hold one of their own (--import=@scope/package).
    const spec = arg.slice('--node='.length);
    const at = spec.includes('@') ? spec.indexOf('@') : spec.length;
    const [binary, flags] = [spec.slice(0, at), spec.slice(at + 1)];
    const path = binary === 'default' ? process.execPath : binary;
    const version = spawnSync(path, ['--version'], { encoding: 'utf8' }).stdout?.trim();
    if (!version) throw new Error(`${arg}: ${path} does not run`);
    return { path, flags, label: `Node ${version}${flags ? ` with ${flags}` : ''}` };
  });
if (runtimes.length === 0) runtimes.push({ path: process.execPath, flags: process.env.BENCH_NODE_OPTIONS ?? '', label: `Node ${process.version}` });
const rounds = Number(options.find((arg) => arg.startsWith('--rounds='))?.slice('--rounds='.length) ?? 1);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds= takes a whole number of at least 1');
const compared = runtimes.length > 1 || rounds > 1;

// 20k+ connections per server: every benchmark process, and what it spawns, may hold 200k files
// where the sandbox lets us raise the limit (CAP_SYS_RESOURCE); else as many as its hard limit.
const nofile = openFileLimit(200_000);
const NOFILE = ['prlimit', `--nofile=${nofile}:${nofile}`];
const decode = (line, tag) => Buffer.from(line.slice(tag.length + 1), 'base64').toString();

let current;
function runBench(file, env, runtime) {
  return new Promise((resolve) => {
    let output = '';
    const child = (current = spawn(NOFILE[0], [...NOFILE.slice(1), runtime.path, '--import', 'tsx', file], {
      cwd: root,
      env: { ...env, BENCH_NODE_OPTIONS: runtime.flags },
      stdio: ['ignore', 'pipe', 'inherit'],
      // A process group of its own (the servers and load processes it starts included), stopped as one on an interrupt.
      detached: true,
    }));
    let partial = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const lines = (partial + chunk).split('\n');
      partial = lines.pop();
      for (const line of lines) if (line && !line.startsWith('BENCH_')) console.log(line);
    });
    child.on('exit', (code) => {
      const lines = output.split('\n');
      const markdown = lines.find((l) => l.startsWith('BENCH_MARKDOWN '));
      const charts = lines.filter((l) => l.startsWith('BENCH_CHART ')).map((l) => JSON.parse(decode(l, 'BENCH_CHART')));
      resolve(code === 0 && markdown ? { markdown: decode(markdown, 'BENCH_MARKDOWN'), charts } : null);
    });
  });
}

// The gateway's connection benchmarks run the peers and draw charts; its in-process tracing one does neither.
if (benches.some((file) => /\/(idle-connections|fanout|latency)\.bench\.ts$/.test(file))) {
  // Built only when a chosen benchmark runs it: idle picks its systems by BENCH_IDLE_CASES, fanout and latency by
  // BENCH_SYSTEMS (both name every system when unset).
  const runsCentrifugo = (bench, variable) =>
    benches.some((file) => file.includes(bench)) && (process.env[variable] ?? 'centrifugo').includes('centrifugo');
  if (runsCentrifugo('idle', 'BENCH_IDLE_CASES') || runsCentrifugo('fanout', 'BENCH_SYSTEMS') || runsCentrifugo('latency', 'BENCH_SYSTEMS')) {
    ensureCentrifugo(root);
  }
  ensureRsvgConvert();
}
const startedAt = Date.now();

// Interrupted (Ctrl-C, or a SIGTERM to this process alone), even while Kafka and Postgres start: stop the running
// benchmark and start no other; the run then ends as a failed one does, stopping Kafka and Postgres.
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    interrupted = true;
    if (current?.exitCode === null) process.kill(-current.pid, 'SIGTERM');
  });
}
// The broker's log in memory by default: here Kafka and Postgres share one ext4 disk, as a deployment would not, and
// the kernel's writeback of the broker's log (its dirty pages expire after 30 s) left Postgres' backends waiting on
// I/O for up to 220 ms, every storing transaction at once (docs/scaling.md, "What breaks first"). The broker does not
// fsync its log either way (its durability is replication); Postgres stays on disk, fsync on. BENCH_KAFKA_LOG=disk
// keeps the broker's log on disk.
const kafkaInMemory = process.env.BENCH_KAFKA_LOG !== 'disk' && canKeepKafkaInMemory();
const infra = await startEphemeralInfra({ root, kind: 'bench', kafkaInMemory });
/** What each benchmark printed, per runtime and round, in the order they ran. */
const results = new Map(benches.map((file) => [file, []]));
try {
  const env = {
    ...process.env,
    BENCH_NOFILE: String(nofile),
    TEST_KAFKA_BROKERS: infra.kafkaBrokers,
    TEST_DATABASE_URL: infra.databaseUrl,
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
    // For CPU accounting: the latency benchmark counts the broker and Postgres (with its backends) as parts of ours.
    BENCH_KAFKA_PID: String(infra.kafkaPid),
    BENCH_POSTGRES_PID: String(infra.postgresPid),
  };
  runs: for (const file of benches) {
    for (let round = 1; round <= rounds; round++) {
      for (const runtime of runtimes) {
        if (interrupted) break runs;
        if (compared) console.log(`${file} on ${runtime.label}, round ${round} of ${rounds}`);
        const result = await runBench(file, env, runtime);
        if (interrupted) break runs;
        if (!result) {
          console.error(`${file} failed on ${runtime.label}`);
          process.exitCode = 1;
          break runs;
        }
        // A comparison's charts would overwrite one another: the single runs draw them.
        for (const { name, svg } of compared ? [] : result.charts) {
          writePng(svg, `${root}/docs/benchmarks/${name}.png`);
          console.log(`chart: docs/benchmarks/${name}.png`);
        }
        results.get(file).push({ label: `${runtime.label}, round ${round} of ${rounds}`, markdown: result.markdown });
      }
    }
  }
} finally {
  await infra.stop();
}
if (interrupted) process.exit(130);
if (process.exitCode) process.exit();

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, ${runtimes.map((r) => r.label).join(' and ')}`;
const minutes = ((Date.now() - startedAt) / 60_000).toFixed(1);
const runLine = `Run of ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC. Command: \`${commandLine(process.argv.slice(2), process.env)}\` (${minutes} min). Machine: ${machine}; open files per process ${nofile.toLocaleString('en')};
Kafka and Postgres on the same machine, shared and noisy; Postgres on disk (fsync on), the broker's log ${kafkaInMemory ? 'in memory (tmpfs)' : 'on the same disk'}.`;
const file = `${root}/docs/benchmarks.md`;
let document = existsSync(file) ? readFileSync(file, 'utf8') : HEADER;
for (const [bench, printed] of results) document = replaceBenchSection(document, bench, benchSection(runLine, printed));
writeFileSync(file, document);
console.log(`recorded in docs/benchmarks.md: ${[...results.keys()].join(', ')}`);
