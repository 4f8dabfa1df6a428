import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RUNTIME = new URL('./index.ts', import.meta.url).href;
const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** A service whose shutdown takes `drainMs`, started and ready; the caller signals it. */
async function startDraining(drainMs: number, then = '') {
  const dir = mkdtempSync(join(tmpdir(), 'shutdown-test-'));
  const script = join(dir, 'service.mts');
  writeFileSync(
    script,
    `import { createLogger, onShutdownSignal } from '${RUNTIME}';
const logger = createLogger('shutdown-test');
const shutdown = onShutdownSignal(logger, async () => {
  logger.info('draining');
  await new Promise((resolve) => setTimeout(resolve, ${drainMs}));
}, { timeoutMs: 2_000 });
setInterval(() => undefined, 1000);
${then}
process.stdout.write('ready\\n');
`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let logs = '';
  child.stderr!.on('data', (chunk: Buffer) => (logs += chunk.toString()));
  child.stdout!.on('data', (chunk: Buffer) => (logs += chunk.toString()));
  await once(child.stdout!, 'data');
  const exit = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const cleanup = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  return { child, exit, logs: () => logs, cleanup };
}

test('a service whose log reader has gone still exits on SIGTERM', async () => {
  // A supervisor that dies leaves its services writing logs into a closed pipe: the last log line
  // must not keep the process from exiting, or it lingers and holds its port.
  const service = await startDraining(0);
  try {
    service.child.stdout!.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    service.child.kill('SIGTERM');
    const timeout = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 10_000).unref());
    const outcome = await Promise.race([service.exit, timeout]);
    assert.notEqual(outcome, 'hung', `the process was still running 10 s after SIGTERM; output:\n${service.logs()}`);
    assert.deepEqual(outcome, [0, null], `exit code and signal; output:\n${service.logs()}`);
  } finally {
    service.cleanup();
  }
});

test("Ctrl-C under npm start (SIGINT from the terminal, SIGTERM from the supervisor at once) still drains gracefully", async () => {
  const service = await startDraining(500);
  try {
    service.child.kill('SIGINT');
    service.child.kill('SIGTERM');
    assert.deepEqual(await service.exit, [0, null], service.logs());
    assert.match(service.logs(), /shut down cleanly/);
    assert.doesNotMatch(service.logs(), /second signal/);
  } finally {
    service.cleanup();
  }
});

test('a second signal well after the first exits at once, without waiting for the drain', async () => {
  const service = await startDraining(20_000);
  try {
    service.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    service.child.kill('SIGTERM');
    assert.deepEqual(await service.exit, [1, null], service.logs());
    assert.match(service.logs(), /second signal, exiting now/);
  } finally {
    service.cleanup();
  }
});

test('a shutdown the process begins itself drains as for a signal, then exits with its code, in time or not', async () => {
  for (const drainMs of [300, 20_000]) {
    const service = await startDraining(drainMs, "shutdown.begin('the event feed is gone', 70); shutdown.begin('again', 70);");
    try {
      const started = performance.now();
      assert.deepEqual(await service.exit, [70, null], service.logs());
      assert.match(service.logs(), /draining/);
      assert.equal(service.logs().match(/"msg":"shutting down"/g)?.length, 1, 'begun once');
      assert.ok(performance.now() - started < 10_000, 'bounded by the time limit');
    } finally {
      service.cleanup();
    }
  }
});
