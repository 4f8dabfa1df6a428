import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Job } from '../load/generator';

const GENERATOR = fileURLToPath(new URL('../load/generator.ts', import.meta.url));

/** The load generator as a separate process; jobs run one at a time. */
export class LoadProcess {
  private constructor(private readonly child: ChildProcess) {}

  static async start(): Promise<LoadProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', GENERATOR], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const load = new LoadProcess(child);
    await load.reply();
    return load;
  }

  get pid(): number {
    return this.child.pid!;
  }

  async run<T>(job: Job): Promise<T> {
    this.child.send(job);
    return this.reply<T>();
  }

  private async reply<T>(): Promise<T> {
    // Whichever comes second is cancelled, so that a run of many jobs does not pile up listeners on the child.
    const settled = new AbortController();
    const { signal } = settled;
    const [message] = (await Promise.race([
      once(this.child, 'message', { signal }),
      once(this.child, 'exit', { signal }).then(() => {
        throw new Error('the load generator exited');
      }),
    ]).finally(() => settled.abort())) as [{ ok: boolean; result?: T; error?: string }];
    if (!message.ok) throw new Error(`load generator: ${message.error}`);
    return message.result as T;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.disconnect();
    await exited;
  }
}
