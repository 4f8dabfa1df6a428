import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';

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
  /** SIGTERM (graceful) and wait for exit; returns the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: a crash, no cleanup. */
  kill(): Promise<void>;
}

/**
 * Starts a service as a real process on an ephemeral port, as the stack runs
 * it, and waits until /readyz says ready.
 */
export async function startService(name: ServiceName, env: Record<string, string>, readyTimeoutMs = 30_000): Promise<RunningService> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', '@chat/telemetry/register', `services/${name}/src/main.ts`], {
    cwd: REPO_ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let port: number | undefined;
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
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
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      return code;
    },
    async kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
