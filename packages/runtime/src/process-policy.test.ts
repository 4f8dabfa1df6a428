import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const policy = fileURLToPath(new URL('./process-policy.ts', import.meta.url));

/** A child process with the policy installed that then does `act`, and prints its counter when still alive. */
function runChild(act: string) {
  const script = `
    import { Registry } from 'prom-client';
    import pino from 'pino';
    import { installProcessPolicy } from ${JSON.stringify(policy)};
    const registry = new Registry();
    installProcessPolicy(pino(pino.destination({ fd: 1, sync: true })), registry);
    ${act}
    setTimeout(async () => console.log('still serving', (await registry.getSingleMetric('chat_unhandled_errors_total').get()).values[0].value), 200);`;
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', cwd: fileURLToPath(new URL('..', import.meta.url)) });
}

test('an unhandled rejection is logged and counted, and the process keeps serving', () => {
  const child = runChild(`Promise.reject(new Error('forgotten')); Promise.reject(new Error('forgotten again'));`);
  assert.equal(child.status, 0, child.stderr);
  assert.match(child.stdout, /"message":"forgotten".*"msg":"unhandled promise rejection/);
  assert.match(child.stdout, /still serving 2/);
});

test('an uncaught exception is logged and the process exits non-zero for its supervisor to restart it', () => {
  const child = runChild(`setImmediate(() => { throw new Error('midway'); });`);
  assert.equal(child.status, 70, child.stderr);
  assert.match(child.stdout, /"message":"midway".*"msg":"uncaught exception/);
  assert.doesNotMatch(child.stdout, /still serving/);
});
