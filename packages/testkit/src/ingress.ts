import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../../infra/local/common.mjs';
import { startNginx } from '../../../infra/local/nginx.mjs';
import { uniqueName } from './infra';
import type { RunningService } from './processes';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface TestIngress {
  /** http://127.0.0.1:<port>: the one origin clients use, as in a cluster. */
  url: string;
  stop(): Promise<void>;
}

/**
 * The local ingress (infra/local/nginx.mjs, the config `npm run start:cluster`
 * uses) on an ephemeral port in front of the given gateways, with its files in a
 * folder of its own that stop() removes.
 */
export async function startIngress(gateways: RunningService[]): Promise<TestIngress> {
  const dir = join(REPO_ROOT, '.local', 'test-runs', uniqueName('nginx'));
  const nginx = await startNginx({ dir, port: await freePort(), upstreams: gateways.map((gateway) => `127.0.0.1:${gateway.port}`) });
  return {
    url: nginx.url,
    async stop() {
      await nginx.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
