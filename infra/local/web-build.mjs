// Builds the web app (web/dist, served by the gateway at /) when the build is missing or older than its sources.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runChecked } from './common.mjs';

const SOURCES = ['web/src', 'web/index.html', 'web/vite.config.ts', 'web/package.json', 'packages/client/src', 'packages/protocol/src'];

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((entry) => newestMtime(join(path, entry))));
}

/** Returns whether it built. Quick when the build is current (a few stat calls). */
export function ensureWebBuilt({ root }) {
  const built = join(root, 'web', 'dist', 'index.html');
  const builtAt = existsSync(built) ? statSync(built).mtimeMs : 0;
  if (builtAt > Math.max(...SOURCES.map((source) => newestMtime(join(root, source))))) return false;
  const started = Date.now();
  console.log(builtAt ? '[web] sources changed: building web/dist…' : '[web] no build yet: building web/dist…');
  runChecked('npm', ['run', 'build', '--workspace', 'web', '--silent'], { cwd: root });
  console.log(`[web] built in ${Date.now() - started} ms`);
  return true;
}
