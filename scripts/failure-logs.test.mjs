// The failure-logs reporter, run by node's test runner on fixture test files: a failed file gets the end of its
// services' logs and of the servers' logs printed; a passing run prints nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const reporter = fileURLToPath(new URL('./failure-logs.mjs', import.meta.url));
const testLogs = new URL('../infra/local/test-logs.mjs', import.meta.url).href;

/** A test file that logs as a testkit service would, then passes or fails. */
const fixture = (fails) => `
  import { test } from 'node:test';
  import { mkdirSync, writeFileSync } from 'node:fs';
  import { join } from 'node:path';
  import { testLogFolder } from ${JSON.stringify(testLogs)};
  test('a test', () => {
    const folder = testLogFolder(process.env.TEST_LOG_DIR, process.argv[1]);
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, '01-gateway.log'), 'early line\\n' + 'x'.repeat(10000) + '\\nthe gateway said why\\n');
    if (${fails}) throw new Error('the assertion');
  });`;

function runWithReporter(fails) {
  const dir = mkdtempSync(join(tmpdir(), 'failure-logs-'));
  try {
    const testFile = join(dir, 'fixture.test.mjs');
    writeFileSync(testFile, fixture(fails));
    writeFileSync(join(dir, 'kafka.log'), 'the broker said why\n');
    const env = { ...process.env, TEST_LOG_DIR: join(dir, 'logs'), TEST_INFRA_LOGS: `kafka=${join(dir, 'kafka.log')}` };
    // Not a child of this run's test runner, but a runner of its own.
    delete env.NODE_TEST_CONTEXT;
    const result = spawnSync(process.execPath, ['--test', `--test-reporter=${reporter}`, testFile], { env, encoding: 'utf8' });
    return { status: result.status, output: result.stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a failed test file gets the last lines of its services\' logs and of the servers\' logs printed', () => {
  const { status, output } = runWithReporter(true);
  assert.equal(status, 1);
  assert.match(output, /logs of what the failed tests started/);
  assert.match(output, /fixture\.test\.mjs: 1 service log/);
  assert.match(output, /last lines of 01-gateway .*\n[\s\S]*the gateway said why/);
  assert.doesNotMatch(output, /early line/, 'only the end of a long log');
  assert.match(output, /last lines of kafka[^\n]*\nthe broker said why/);
});

test('a passing run prints no logs', () => {
  const { status, output } = runWithReporter(false);
  assert.equal(status, 0);
  assert.equal(output.trim(), '');
});
