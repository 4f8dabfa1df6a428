import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { ensureLibfaketimeInstalled } from '../../../infra/local/faketime.mjs';
import { serviceNodeOptions } from '../../../infra/local/node.mjs';
import { testLogFolder } from '../../../infra/local/test-logs.mjs';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export type ServiceName = 'gateway' | 'messaging' | 'presence';

export interface RunningService {
  name: ServiceName;
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  process: ChildProcess;
  /** Everything it logged, for assertions and for failure messages. */
  logs(): string;
  /** SIGTERM (graceful) and wait for exit, up to `graceMs` (then SIGKILL, and an error); returns the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  /** SIGKILL: a crash, no cleanup. */
  kill(): Promise<void>;
}

let started = 0;

/**
 * Under `npm test`, where a service's output is also appended, so that the failure-logs reporter can print it when a
 * test of this file fails: TEST_LOG_DIR/<this test file>/<n>-<service>.log.
 */
function logFileFor(name: ServiceName): string | undefined {
  const logDir = process.env.TEST_LOG_DIR;
  const testFile = process.argv[1];
  if (!logDir || !testFile) return undefined;
  const folder = testLogFolder(logDir, testFile);
  mkdirSync(folder, { recursive: true });
  return join(folder, `${String(++started).padStart(2, '0')}-${name}.log`);
}

export interface StartServiceOptions {
  readyTimeoutMs?: number;
  /**
   * Runs the process with its wall clock this many seconds off the host's (negative: behind), through Debian's
   * libfaketime (LD_PRELOAD, `FAKETIME="+20"`), apt-installed when missing. Only the wall clock moves (`Date.now()`,
   * `new Date()`, the `Date` header): its monotonic clocks (`performance.now()`, timers, libuv) stay the host's
   * (`FAKETIME_DONT_FAKE_MONOTONIC=1`), as on a host whose NTP is off, so that what the process measures is not skewed.
   */
  clockSkewSeconds?: number;
}

/** The environment that puts a process's wall clock `seconds` off; its other clocks untouched. */
function clockSkewEnv(seconds: number, inherited: string | undefined): Record<string, string> {
  if (!Number.isInteger(seconds)) throw new Error(`a clock skew is whole seconds, not ${seconds}`);
  const library = ensureLibfaketimeInstalled();
  return {
    LD_PRELOAD: inherited ? `${library}:${inherited}` : library,
    // An offset (+N / -N seconds) keeps the clock running; an absolute date would stop it.
    FAKETIME: seconds < 0 ? String(seconds) : `+${seconds}`,
    // Faked, the monotonic clock jumps by the whole epoch (0.9.10): nothing should measure time on a skewed clock.
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
  };
}

/**
 * Starts a service as a real process on an ephemeral port, as the stack runs
 * it, and waits until /readyz says ready.
 */
export async function startService(name: ServiceName, env: Record<string, string>, options: StartServiceOptions = {}): Promise<RunningService> {
  const { readyTimeoutMs = 60_000, clockSkewSeconds } = options;
  const skew = clockSkewSeconds === undefined ? {} : clockSkewEnv(clockSkewSeconds, env.LD_PRELOAD ?? process.env.LD_PRELOAD);
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', '@chat/telemetry/register', `services/${name}/src/main.ts`], {
    cwd: REPO_ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env, ...skew, NODE_OPTIONS: serviceNodeOptions(env.NODE_OPTIONS ?? process.env.NODE_OPTIONS) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let port: number | undefined;
  const logFile = logFileFor(name);
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    if (logFile) appendFileSync(logFile, chunk);
    const match = output.match(/Server listening at http:\/\/127\.0\.0\.1:(\d+)/);
    if (match && port === undefined) port = Number(match[1]);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = once(child, 'exit');

  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} before it was ready:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} was not ready within ${readyTimeoutMs} ms:\n${output}`);
    }
    if (port !== undefined) {
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
      if (ready) break;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const url = `http://127.0.0.1:${port}`;
  return {
    name,
    url,
    port: port!,
    process: child,
    logs: () => output,
    async stop(graceMs = 30_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
      const result = await Promise.race([exited, timedOut]).finally(() => clearTimeout(timer));
      if (result === 'timeout') {
        child.kill('SIGKILL');
        await exited;
        throw new Error(`${name} did not exit within ${graceMs} ms of SIGTERM (killed):\n${output.slice(-4000)}`);
      }
      return (result as [number | null])[0];
    },
    async kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
