// What `npm run bench` needs around the benchmarks themselves: the shared heavy lock,
// the Centrifugo peer (built from the Go module proxy), and PNG charts (rsvg-convert).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aptInstall, hasCommand, runChecked } from '../infra/local/common.mjs';

export const HEAVY_LOCK = '/tmp/chat-heavy.lock';
const CENTRIFUGO_MODULE = 'github.com/centrifugal/centrifugo/v6';
export const CENTRIFUGO_VERSION = 'v6.9.1';
/**
 * v6.9.1 pins an unreleased centrifuge commit and protocol v0.19.2, neither of which the Go module proxy
 * serves here; it builds against their newer releases (and the rueidis those want). The one source change:
 * protocol v0.23 renamed Push's MarshalVT/UnmarshalVT to MarshalCF/UnmarshalCF, used only by the NATS broker,
 * which the benchmark (memory engine) never starts.
 */
const CENTRIFUGO_DEPENDENCIES = {
  'github.com/centrifugal/centrifuge': 'v0.40.1',
  'github.com/centrifugal/protocol': 'v0.23.1',
  'github.com/redis/rueidis': 'v1.0.79',
};
const CENTRIFUGO_RENAMES = { 'internal/natsbroker/broker.go': [['.MarshalVT()', '.MarshalCF()'], ['.UnmarshalVT(', '.UnmarshalCF(']] };

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
 * Builds the pinned Centrifugo into .local/bin once. `go install module@version` asks the proxy for
 * the module's version list (to check deprecation), which it refuses here, so the build downloads the
 * module, copies its source, moves it to the dependency releases above and builds that copy.
 */
export function ensureCentrifugo(root) {
  const binary = join(root, '.local', 'bin', 'centrifugo');
  if (existsSync(binary) && runChecked(binary, ['version']).includes(CENTRIFUGO_VERSION.slice(1))) return binary;
  if (!hasCommand('go')) throw new Error('Go is needed to build the Centrifugo peer (https://go.dev/dl/)');
  const buildDir = join(root, '.local', 'centrifugo-build');
  const goEnv = { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' };
  console.log(`[bench] building Centrifugo ${CENTRIFUGO_VERSION} into .local/bin (once)…`);
  rmSync(buildDir, { recursive: true, force: true });
  mkdirSync(buildDir, { recursive: true });
  const { Dir: moduleDir } = JSON.parse(
    runChecked('go', ['mod', 'download', '-json', `${CENTRIFUGO_MODULE}@${CENTRIFUGO_VERSION}`], { cwd: buildDir, env: goEnv }),
  );
  const source = join(buildDir, `centrifugo-${CENTRIFUGO_VERSION}`);
  cpSync(moduleDir, source, { recursive: true });
  runChecked('chmod', ['-R', 'u+w', source]);
  for (const [file, renames] of Object.entries(CENTRIFUGO_RENAMES)) {
    const path = join(source, file);
    writeFileSync(path, renames.reduce((text, [from, to]) => text.replaceAll(from, to), readFileSync(path, 'utf8')));
  }
  const edits = Object.entries(CENTRIFUGO_DEPENDENCIES).flatMap(([module, version]) => [
    `-replace=${module}=${module}@${version}`,
    `-require=${module}@${version}`,
  ]);
  runChecked('go', ['mod', 'edit', ...edits], { cwd: source, env: goEnv });
  // The version is stamped at link time, as Centrifugo's release builds do; `centrifugo version` then tells it.
  const ldflags = `-X ${CENTRIFUGO_MODULE}/internal/build.Version=${CENTRIFUGO_VERSION.slice(1)}`;
  runChecked('go', ['build', '-trimpath', '-ldflags', ldflags, '-o', binary, '.'], {
    cwd: source,
    env: goEnv,
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
