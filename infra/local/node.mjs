// The Node.js every service, test and benchmark runs on: 24 or newer. A machine whose own `node` is older (Node 20 is
// past its end of life; Debian's is older still) gets the version pinned in infra/local/node/package-lock.json,
// installed from the npm registry (the package node-linux-<arch>, which is the official binary) into .local/node
// with `npm ci`, so its integrity is checked as the lockfile checks everything else. Idempotent: a second call only
// reads a version file.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MIN_NODE_MAJOR = 24;

/**
 * V8 settings every service runs with, in the images (ENV NODE_OPTIONS) and here (npm start, the tests' services, the
 * benchmarks): Node 24's young generation grows to 64 MiB semi-spaces where Node 20's stopped at 16, and with it the
 * memory an idle connection holds (WebSocket 14.5 KiB instead of 6.4, SSE 23.4–23.9 instead of 16.2–16.5 on the idle
 * benchmark of 2026-12-03, docs/benchmarks.md). The larger young generation bought 20–45 % more fan-out deliveries a
 * second at 4,000 messages/s in the same run; memory per connection is what a gateway runs out of first, so 16 MiB
 * it is. They go first in NODE_OPTIONS, so flags given after them win; the images set them as ENV NODE_OPTIONS, which
 * a pod's own NODE_OPTIONS (gateway.extraEnv in the chart) replaces.
 */
export const SERVICE_NODE_OPTIONS = '--max-semi-space-size=16';

/** NODE_OPTIONS for a service process: ours, then whatever the caller adds. */
export const serviceNodeOptions = (extra) => [SERVICE_NODE_OPTIONS, extra].filter(Boolean).join(' ');

const root = fileURLToPath(new URL('../..', import.meta.url));
const manifestDir = join(root, 'infra/local/node');
const installDir = join(root, '.local/node');

const major = (version) => Number(/^v?(\d+)/.exec(version)?.[1] ?? 0);
const pinned = () => JSON.parse(readFileSync(join(manifestDir, 'package.json'), 'utf8')).optionalDependencies;

/** The version the project pins for machines whose node is older, e.g. '24.22.3'. */
export function pinnedNodeVersion() {
  const versions = new Set(Object.values(pinned()));
  if (versions.size !== 1) throw new Error(`infra/local/node/package.json pins several versions: ${[...versions].join(', ')}`);
  return [...versions][0];
}

function versionOf(binary) {
  const result = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : null;
}

/**
 * The path of a Node.js binary of version 24 or newer: this process's own if it is one, else the pinned one in
 * .local/node (installed on first use). Throws, saying what to do, where neither can be had.
 */
export function ensureNode({ log = (line) => console.error(line) } = {}) {
  if (major(process.version) >= MIN_NODE_MAJOR) return process.execPath;
  const version = pinnedNodeVersion();
  const pkg = `node-${process.platform}-${process.arch}`;
  if (!Object.hasOwn(pinned(), pkg)) {
    throw new Error(`this machine's Node is ${process.version} and no Node ${MIN_NODE_MAJOR} is pinned for ${process.platform}/${process.arch}: install Node ${MIN_NODE_MAJOR} or newer and run again`);
  }
  const binary = join(installDir, 'node_modules', pkg, 'bin', 'node');
  const lockfile = readFileSync(join(manifestDir, 'package-lock.json'), 'utf8');
  const installedLock = join(installDir, 'package-lock.json');
  const current = existsSync(binary) && existsSync(installedLock) && readFileSync(installedLock, 'utf8') === lockfile;
  if (current && versionOf(binary) === `v${version}`) return binary;

  log(`installing Node ${version} into .local/node (the machine's is ${process.version}; once)…`);
  mkdirSync(installDir, { recursive: true });
  for (const file of ['package.json', 'package-lock.json']) copyFileSync(join(manifestDir, file), join(installDir, file));
  // The npm that runs this script (npm start, npm test) or else the one on PATH. --ignore-scripts: the package is
  // the binary itself and needs none; `ci` checks each tarball against the lockfile's sha512.
  const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];
  const result = spawnSync(npm[0], [...npm.slice(1), 'ci', '--prefix', installDir, '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: installDir,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (result.status !== 0) throw new Error(`npm ci of Node ${version} into .local/node failed (exit ${result.status ?? result.signal})`);
  const installed = versionOf(binary);
  if (installed !== `v${version}`) throw new Error(`.local/node holds ${binary}, which reports ${installed ?? 'nothing'}, not v${version}`);
  return binary;
}
