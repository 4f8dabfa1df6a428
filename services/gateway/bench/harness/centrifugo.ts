/**
 * The Centrifugo peer: the binary that `npm run bench` installs into
 * .local/bin, one node, memory engine, started on a free loopback port.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BINARY = fileURLToPath(new URL('../../../../.local/bin/centrifugo', import.meta.url));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Insecure client mode: anonymous connections may subscribe and publish (the peers' benchmark needs no auth). v6 keys. */
function config(port: number): object {
  return {
    // As much room per connection as our gateway's send buffer bound (1 MiB), so fan-out does not cut anyone.
    client: { insecure: true, allowed_origins: ['*'], queue_max_size: 1024 * 1024 },
    http_server: { address: '127.0.0.1', port },
    log: { level: 'error' },
    prometheus: { enabled: true },
    health: { enabled: true },
    engine: { type: 'memory' },
    channel: { without_namespace: { allow_subscribe_for_client: true, allow_publish_for_client: true } },
    // Benchmarks send only to loopback; Centrifugo would otherwise report anonymous usage to its authors.
    usage_stats: { disabled: true },
  };
}

export async function startCentrifugo(): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run the benchmarks through \`npm run bench\`, which installs it`);
  const dir = mkdtempSync(join(tmpdir(), 'bench-centrifugo-'));
  const port = await freePort();
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config(port)));
  const child = spawn(BINARY, ['--config', join(dir, 'config.json')], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  const exited = once(child, 'exit');
  for (const deadline = Date.now() + 20_000; ; ) {
    if (child.exitCode !== null) throw new Error(`centrifugo exited with ${child.exitCode}`);
    if (await fetch(`${url}/health`).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline) throw new Error('centrifugo was not healthy within 20 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
