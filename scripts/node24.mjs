#!/usr/bin/env node
// `node scripts/node24.mjs [node flags] <script> [args]`: runs the script on Node 24 or newer whatever `node` the
// machine has (infra/local/node.mjs), with that Node's folder first on PATH, so that what the script starts
// (services and tests through process.execPath, npx and npm through `#!/usr/bin/env node`) runs on it too. Every
// root package.json script goes through it. Signals reach the child; its exit code is this process's.
import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { ensureNode } from '../infra/local/node.mjs';

let node;
try {
  node = ensureNode();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
const env = { ...process.env, PATH: `${dirname(node)}:${process.env.PATH ?? ''}` };
const child = spawn(node, process.argv.slice(2), { stdio: 'inherit', env });
// Ctrl-C reaches the child from the terminal as well; the scripts stop once however often they are told.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  });
}
child.on('error', (error) => {
  console.error(`${node}: ${error.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  process.exitCode = code ?? 128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1, SIGKILL: 9 }[signal] ?? 1);
});
