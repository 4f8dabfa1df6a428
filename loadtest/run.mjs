#!/usr/bin/env node
// `npm run loadtest -- <websocket|sse|long-poll> [k6 run flags]`: builds k6 if
// needed, bundles the scenario with @chat/protocol (k6 cannot resolve the
// workspace's TypeScript imports itself) and runs it. The plan comes from the
// environment: BASE_URL, VUS, ROOMS, RATE, DURATION, DRAIN, WARMUP, P99_BUDGET_MS
// (see loadtest/README.md). Exits with k6's code: non-zero when a threshold failed.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { ensureK6 } from './install-k6.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
export const SCENARIOS = ['websocket', 'sse', 'long-poll'];

/** One ES module per scenario under .local/loadtest, with only k6's own modules left as imports. */
export async function bundleScenario(scenario) {
  if (!SCENARIOS.includes(scenario)) throw new Error(`unknown scenario "${scenario}"; one of ${SCENARIOS.join(', ')}`);
  const outfile = join(root, '.local', 'loadtest', `${scenario}.js`);
  mkdirSync(join(root, '.local', 'loadtest'), { recursive: true });
  await build({
    entryPoints: [join(root, 'loadtest', 'scenarios', `${scenario}.ts`)],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    target: 'es2020',
    external: ['k6', 'k6/*'],
    logLevel: 'warning',
  });
  return outfile;
}

/** Runs a scenario to the end; resolves with k6's exit code. `onOutput` gets k6's output instead of the console. */
export async function runScenario(scenario, { env = {}, args = [], onOutput } = {}) {
  const k6 = ensureK6();
  const script = await bundleScenario(scenario);
  const child = spawn(k6, ['run', '--no-usage-report', ...args, script], {
    env: { ...process.env, ...env },
    stdio: onOutput ? ['ignore', 'pipe', 'pipe'] : 'inherit',
  });
  if (onOutput) for (const stream of [child.stdout, child.stderr]) stream.on('data', (chunk) => onOutput(chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [scenario, ...args] = process.argv.slice(2);
  if (!scenario) {
    console.error(`usage: npm run loadtest -- <${SCENARIOS.join('|')}> [k6 run flags]`);
    process.exit(2);
  }
  process.exit(await runScenario(scenario, { args }));
}
