// What `npm run bench` needs around the benchmarks themselves: the shared heavy lock,
// the Centrifugo peer (built from the Go module proxy), and PNG charts (rsvg-convert).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aptInstall, hasCommand, runChecked } from '../infra/local/common.mjs';

export const HEAVY_LOCK = '/tmp/chat-heavy.lock';
const CENTRIFUGO_MODULE = 'github.com/centrifugal/centrifugo/v5';
export const CENTRIFUGO_VERSION = 'v5.4.9';

function parentOf(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
  } catch {
    return 0;
  }
}

/** True when this process or an ancestor (e.g. `flock /tmp/chat-heavy.lock npm run bench`) holds the lock. */
function heldByUs() {
  if (!existsSync(HEAVY_LOCK)) return false;
  const inode = String(statSync(HEAVY_LOCK).ino);
  const holders = new Set(
    readFileSync('/proc/locks', 'utf8')
      .split('\n')
      .filter((line) => !line.includes('->') && line.split(/\s+/)[5]?.endsWith(`:${inode}`))
      .map((line) => Number(line.split(/\s+/)[4])),
  );
  for (let pid = process.pid; pid > 1; pid = parentOf(pid)) if (holders.has(pid)) return true;
  return false;
}

/**
 * Benchmarks must not share the 2 cores with other heavy work: unless an ancestor already
 * holds the shared lock, run this script again under `flock` and exit with its status.
 */
export function reexecUnderHeavyLock() {
  if (heldByUs() || !hasCommand('flock')) return;
  console.log(`[bench] waiting for ${HEAVY_LOCK}…`);
  const result = spawnSync('flock', [HEAVY_LOCK, process.execPath, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}

/**
 * Builds the pinned Centrifugo into .local/bin once. `go install module@version` asks the
 * proxy for the module's version list (to check deprecation), which it refuses here, so the
 * build goes through a throwaway module that requires the pinned version. v5.4.9, not v6:
 * the proxy serves v6.9.1 but not the unreleased centrifuge commit it pins, and v6.9.1 does
 * not build against centrifuge's last release.
 */
export function ensureCentrifugo(root) {
  const binary = join(root, '.local', 'bin', 'centrifugo');
  if (existsSync(binary) && runChecked(binary, ['version']).includes(CENTRIFUGO_VERSION.slice(1))) return binary;
  if (!hasCommand('go')) throw new Error('Go is needed to build the Centrifugo peer (https://go.dev/dl/)');
  const buildDir = join(root, '.local', 'centrifugo-build');
  mkdirSync(buildDir, { recursive: true });
  writeFileSync(join(buildDir, 'go.mod'), `module centrifugo-build\n\ngo 1.23\n\nrequire ${CENTRIFUGO_MODULE} ${CENTRIFUGO_VERSION}\n`);
  console.log(`[bench] building Centrifugo ${CENTRIFUGO_VERSION} into .local/bin (once)…`);
  // The version is stamped at link time, as Centrifugo's release builds do; `centrifugo version` then tells it.
  const ldflags = `-X ${CENTRIFUGO_MODULE}/internal/build.Version=${CENTRIFUGO_VERSION.slice(1)}`;
  runChecked('go', ['build', '-trimpath', '-ldflags', ldflags, '-o', binary, CENTRIFUGO_MODULE], {
    cwd: buildDir,
    env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  return binary;
}

/** `wanted` open files if this process may raise its limit that far, else its hard limit. */
export function openFileLimit(wanted) {
  if (spawnSync('prlimit', [`--nofile=${wanted}:${wanted}`, 'true']).status === 0) return wanted;
  const hard = Number(runChecked('sh', ['-c', 'ulimit -Hn']).trim());
  console.warn(`[bench] cannot raise the open-file limit to ${wanted} here; using the hard limit ${hard}`);
  return hard;
}

export function ensureRsvgConvert() {
  if (!hasCommand('rsvg-convert')) aptInstall(['librsvg2-bin'], 'rsvg-convert turns the benchmark charts into PNG');
}

export function writePng(svg, file) {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, runChecked('rsvg-convert', ['--format', 'png'], { input: Buffer.from(svg), encoding: 'buffer' }));
}
