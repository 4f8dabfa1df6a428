#!/usr/bin/env node
// `npm test`: typecheck and lint, then every test in one `node --test` run —
// unit tests, and integration tests against a real Kafka and a real Postgres
// started for this run on ephemeral ports (so a dev stack can stay up).
// `npm test -- --unit` runs the unit tests alone, without infrastructure;
// `npm test -- e2e/resume` runs only the test files whose path contains that text.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureChromiumInstalled } from '../infra/local/chromium.mjs';
import { ensureLibfaketimeInstalled } from '../infra/local/faketime.mjs';
import { startEphemeralInfra } from '../infra/local/ephemeral.mjs';
import { ensureWebBuilt } from '../infra/local/web-build.mjs';
import { ensureHelmTools } from '../infra/helm/tools/install-tools.mjs';
import { ensureK6 } from '../loadtest/install-k6.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
// The Go tools (k6, helm, kubeconform) build with the machine's Go; its usual home may be missing from a bare PATH.
const goHome = '/usr/local/go/bin';
if (existsSync(join(goHome, 'go')) && !(process.env.PATH ?? '').split(':').includes(goHome)) {
  process.env.PATH = `${process.env.PATH ?? ''}:${goHome}`;
}
const unitOnly = process.argv.includes('--unit');

function run(command, args, env = process.env) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: 'inherit', env });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

function findTests(dir, found = []) {
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) findTests(path, found);
    else if (/\.test\.(ts|mjs)$/.test(entry)) found.push(relative(root, path));
  }
  return found;
}

const isIntegration = (file) => /(^|\/)(test|e2e)\//.test(file);
const searchRoots = ['scripts', 'packages', 'services', 'web', 'e2e', 'infra', 'loadtest'].map((dir) => join(root, dir));
const allTests = searchRoots.flatMap((dir) => { try { return findTests(dir); } catch { return []; } }).sort();
const filters = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const tests = allTests
  .filter((file) => !unitOnly || !isIntegration(file))
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)));

const checks = filters.length > 0 ? [] : [['npx', ['turbo', 'run', 'typecheck', '--output-logs=errors-only']], ['npx', ['eslint', '--max-warnings=0', '.']]];
for (const [command, args] of checks) {
  const code = await run(command, args);
  if (code !== 0) {
    console.error(`${command} ${args.join(' ')} failed`);
    process.exit(code);
  }
}

const stops = [];
async function stopInfra() {
  while (stops.length) await stops.pop()().catch((error) => console.error(error));
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopInfra().then(() => process.exit(130), () => process.exit(130));
  });
}

const env = { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' };
// Browser tests (e2e/web-*) drive Debian's Chromium against the built app; the image test serves it too.
if (tests.some((file) => /(^|\/)e2e\/web-/.test(file))) ensureChromiumInstalled();
if (tests.some(isIntegration)) ensureWebBuilt({ root });
// A service started with a clock skew runs under Debian's libfaketime: apt-installed here, not inside a test's timeout.
if (tests.some((file) => /(^|\/)e2e\/faults\/clock-skew/.test(file))) ensureLibfaketimeInstalled();
// One-time builds from the Go module proxy (minutes on a cold Go cache) happen here, before any test's timeout runs.
if (tests.some((file) => file.startsWith('infra/helm/'))) ensureHelmTools({ root });
if (tests.some((file) => file.startsWith('loadtest/'))) ensureK6();
let code;
try {
  if (tests.some(isIntegration)) {
    const started = Date.now();
    const infra = await startEphemeralInfra({ root, kind: 'test' });
    stops.push(() => infra.stop());
    env.TEST_KAFKA_BROKERS = infra.kafkaBrokers;
    env.TEST_DATABASE_URL = infra.databaseUrl;
    // For the failure-logs reporter: services log under TEST_LOG_DIR (testkit), the servers to their own files.
    env.TEST_LOG_DIR = infra.logDir;
    env.TEST_INFRA_LOGS = Object.entries(infra.logFiles).map(([name, file]) => `${name}=${file}`).join(',');
    console.log(`test infrastructure up in ${Date.now() - started} ms: kafka ${infra.kafkaBrokers}, postgres ${infra.databaseUrl}`);
  }
  // No test takes a minute; one that hangs fails after five instead of holding CI until its limit (TEST_TIMEOUT_MS:
  // a longer fuzz run).
  // Beside spec, a reporter that prints, once the run is over, the end of every log a failed test file's services and
  // the servers wrote (scripts/failure-logs.mjs).
  const reporters = ['--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=./scripts/failure-logs.mjs', '--test-reporter-destination=stdout'];
  const timeoutMs = Number(process.env.TEST_TIMEOUT_MS ?? 300_000);
  code = await run(process.execPath, ['--import', 'tsx', '--test', `--test-timeout=${timeoutMs}`, ...reporters, ...tests], env);
} finally {
  await stopInfra();
}
process.exit(code);
