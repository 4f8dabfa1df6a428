import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from './config';
import { armFailpoints, failpoint, FailpointError, parseFailpoints } from './failpoints';

const RUNTIME = new URL('./index.ts', import.meta.url).href;
const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

const logged: Array<{ fields: unknown; message: string }> = [];
const logger = { warn: (fields: unknown, message: string) => logged.push({ fields, message }) } as never;
const arm = (spec: string) => armFailpoints('messaging', logger, { CHAT_FAILPOINTS: spec });

afterEach(() => {
  arm('');
  logged.length = 0;
});

test('an entry names the point, the action and the hit it fires on; no suffix is the first hit, once', () => {
  assert.deepEqual(parseFailpoints(' messaging.after-store=kill@3 , messaging.room-locked=pause,messaging.after-publish=throw@2+', 'messaging'), [
    { name: 'messaging.after-store', action: { kind: 'kill' }, from: 3, repeat: false },
    { name: 'messaging.room-locked', action: { kind: 'pause' }, from: 1, repeat: false },
    { name: 'messaging.after-publish', action: { kind: 'throw' }, from: 2, repeat: true },
  ]);
  assert.deepEqual(parseFailpoints('gateway.before-ack=bug@2', 'gateway'), [{ name: 'gateway.before-ack', action: { kind: 'bug' }, from: 2, repeat: false }]);
  assert.deepEqual(parseFailpoints('gateway.before-deliver=sleep:1500@10', 'gateway'), [
    { name: 'gateway.before-deliver', action: { kind: 'sleep', ms: 1500 }, from: 10, repeat: false },
  ]);
  assert.deepEqual(parseFailpoints('', 'presence'), []);
});

test("a name the service does not have fails with its list of failpoints, as does another service's", () => {
  assert.throws(
    () => parseFailpoints('messaging.after-stor=kill', 'messaging'),
    (error: unknown) =>
      error instanceof ConfigError &&
      /messaging has no failpoint "messaging.after-stor"; its failpoints are messaging.after-store, messaging.after-publish, messaging.room-locked/.test(
        error.message,
      ),
  );
  assert.throws(() => parseFailpoints('gateway.before-ack=kill', 'messaging'), /messaging has no failpoint "gateway.before-ack"/);
  assert.throws(() => parseFailpoints('messaging.after-store=kill', 'presence'), /its failpoints are none/);
});

test('every malformed entry is named in one error', () => {
  assert.throws(
    () => parseFailpoints('messaging.after-store=explode,messaging.room-locked,messaging.after-publish=kill@0,messaging.after-store=kill@x', 'messaging'),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.problems, [
        'CHAT_FAILPOINTS: "messaging.after-store=explode" is not name=kill|pause|throw|bug|sleep:<ms>[@N|@N+]',
        'CHAT_FAILPOINTS: "messaging.room-locked" is not name=kill|pause|throw|bug|sleep:<ms>[@N|@N+]',
        'CHAT_FAILPOINTS: messaging.after-publish counts hits from @1, got @0',
        'CHAT_FAILPOINTS: "messaging.after-store=kill@x" is not name=kill|pause|throw|bug|sleep:<ms>[@N|@N+]',
      ]);
      return true;
    },
  );
  assert.throws(() => parseFailpoints('messaging.after-store=kill,messaging.after-store=throw', 'messaging'), /messaging.after-store is armed twice/);
});

test('arming a list with an unknown name throws before any of it is armed', () => {
  assert.throws(() => arm('messaging.after-stor=throw'), ConfigError);
  assert.throws(() => arm('messaging.after-store=throw,messaging.nope=kill'), ConfigError);
  failpoint('messaging.after-store');
});

test('nothing fires unless armed, and a point armed for the Nth hit fires on that one only', () => {
  failpoint('messaging.after-store');
  arm('messaging.after-store=throw@2');
  failpoint('messaging.after-store');
  failpoint('messaging.room-locked');
  assert.throws(
    () => failpoint('messaging.after-store'),
    (error: unknown) => error instanceof FailpointError && error.name === 'FailpointError' && error.failpoint === 'messaging.after-store' && error.hit === 2,
  );
  failpoint('messaging.after-store');
  assert.deepEqual(
    logged.map(({ fields, message }) => [message, fields]),
    [
      ['failpoints armed', { failpoints: [{ name: 'messaging.after-store', action: { kind: 'throw' }, from: 2, repeat: false }] }],
      ['failpoint fired', { failpoint: 'messaging.after-store', action: 'throw', hit: 2 }],
    ],
  );
});

test('@N+ fires on the Nth hit and every one after it', () => {
  arm('messaging.after-publish=throw@2+');
  const outcomes = Array.from({ length: 4 }, () => {
    try {
      failpoint('messaging.after-publish');
      return 'passed';
    } catch (error) {
      return (error as Error).name;
    }
  });
  assert.deepEqual(outcomes, ['passed', 'FailpointError', 'FailpointError', 'FailpointError']);
});

test('sleep blocks the whole process for its time, timers included, then goes on', async () => {
  arm('messaging.room-locked=sleep:300');
  let timerFiredAt: number | undefined;
  const timer = new Promise<void>((resolve) =>
    setTimeout(() => {
      timerFiredAt = performance.now();
      resolve();
    }, 10),
  );
  const started = performance.now();
  failpoint('messaging.room-locked');
  const returned = performance.now();
  assert.ok(returned - started >= 295, `slept ${returned - started} ms`);
  assert.equal(timerFiredAt, undefined, 'no timer ran during the sleep');
  await timer;
});

/** A process that arms `spec`, then hits messaging.after-store three times, saying so before each hit. */
async function startHitting(spec: string) {
  const dir = mkdtempSync(join(tmpdir(), 'failpoints-test-'));
  const script = join(dir, 'hitting.mts');
  writeFileSync(
    script,
    `import { armFailpoints, createLogger, failpoint } from '${RUNTIME}';
armFailpoints('messaging', createLogger('failpoints-test'));
for (let i = 1; i <= 3; i++) {
  process.stdout.write('hit ' + i + '\\n');
  failpoint('messaging.after-store');
}
process.stdout.write('done\\n');
`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: REPO_ROOT,
    env: { ...process.env, CHAT_FAILPOINTS: spec },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const cleanup = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  return { child, exit, output: () => output, cleanup };
}

async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

test('kill: the process dies of SIGKILL on the armed hit, its log line written first', async () => {
  const hitting = await startHitting('messaging.after-store=kill@2');
  try {
    const [code, signal] = await within(30_000, 'the process to die', hitting.exit);
    assert.deepEqual([code, signal], [null, 'SIGKILL'], hitting.output());
    const output = hitting.output();
    assert.match(output, /hit 1\nhit 2\n\{.*"failpoint":"messaging.after-store","action":"kill","hit":2,"msg":"failpoint fired"\}\n$/);
    assert.doesNotMatch(output, /hit 3|done/);
  } finally {
    hitting.cleanup();
  }
});

test('pause: the process stops (state T) on the armed hit, and goes on from there after SIGCONT', async () => {
  const hitting = await startHitting('messaging.after-store=pause@1');
  try {
    const pid = hitting.child.pid!;
    const state = () => readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0];
    const deadline = Date.now() + 30_000;
    while (!(state() === 'T' && /failpoint fired/.test(hitting.output()))) {
      assert.ok(Date.now() < deadline, `the process did not stop: ${hitting.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(state(), 'T', 'still stopped');
    assert.doesNotMatch(hitting.output(), /hit 2/);
    hitting.child.kill('SIGCONT');
    const [code] = await within(30_000, 'the process to finish', hitting.exit);
    assert.equal(code, 0, hitting.output());
    assert.match(hitting.output(), /hit 2\nhit 3\ndone\n$/);
  } finally {
    hitting.cleanup();
  }
});
