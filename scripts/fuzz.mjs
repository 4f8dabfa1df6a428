#!/usr/bin/env node
// `npm run fuzz -- --minutes N`: the black-box fuzz run of e2e/fuzz.test.ts for N minutes (default 5) against a
// stack of its own on real Kafka and Postgres, as `npm test` runs it for about a minute. Loopback only; it stops
// by itself.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const at = process.argv.indexOf('--minutes');
const minutes = at >= 0 ? Number(process.argv[at + 1]) : 5;
if (!(minutes > 0 && minutes <= 24 * 60)) {
  console.error('usage: npm run fuzz -- --minutes N (0 < N <= 1440)');
  process.exit(2);
}
const seconds = Math.round(minutes * 60);
const child = spawn(process.execPath, ['scripts/test.mjs', 'e2e/fuzz.test'], {
  cwd: fileURLToPath(new URL('..', import.meta.url)),
  stdio: 'inherit',
  // The run, plus the stack's start and the checks after it.
  env: { ...process.env, FUZZ_SECONDS: String(seconds), TEST_TIMEOUT_MS: String((seconds + 300) * 1000) },
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
