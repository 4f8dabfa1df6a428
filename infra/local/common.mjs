// Process, port and module helpers shared by kafka.mjs and postgres.mjs. Node built-ins only.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const hasCommand = (name) => spawnSync('sh', ['-c', `command -v '${name}'`], { stdio: 'ignore' }).status === 0;

/** Runs a command to completion and returns its stdout; throws with its output when it fails. */
export function runChecked(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  if (result.error) throw new Error(`${command}: ${result.error.message}`);
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.slice(-4000);
    throw new Error(`${command} ${args.join(' ')} failed (${result.signal ?? `exit ${result.status}`}):\n${output}`);
  }
  return result.stdout;
}

/**
 * Loads a package (kafkajs, pg) from the repo root node_modules, lazily, so the install
 * steps run before `npm ci`. SMOKE_MODULES (a node_modules dir) is a fallback for
 * running the smoke check against a scratch install.
 */
export function requireFromRepo(root, name) {
  const bases = [join(root, 'package.json')];
  if (process.env.SMOKE_MODULES) bases.push(join(process.env.SMOKE_MODULES, '..', 'package.json'));
  for (const base of bases) {
    try {
      return createRequire(base)(name);
    } catch (error) {
      if (error.code !== 'MODULE_NOT_FOUND') throw error;
    }
  }
  throw new Error(`cannot load '${name}' from ${root}: run \`npm ci\` at the repo root`);
}

// The OS hands out ephemeral ports in sequence, but two quick calls may still coincide
// once a port is released; never hand the same one out twice from this process.
const handedOut = new Set();

/** A port that is free on 127.0.0.1 right now (for tests and parallel runs). */
export async function freePort() {
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address();
        server.close(() => resolve(port));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

/** The end of a log file, for error messages. */
export function tail(file, bytes = 4000) {
  let fd;
  try {
    fd = openSync(file, 'r');
    const size = statSync(file).size;
    const buffer = Buffer.alloc(Math.min(bytes, size));
    readSync(fd, buffer, 0, buffer.length, size - buffer.length);
    return buffer.toString('utf8');
  } catch {
    return `(no log at ${file})`;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Polls `check` until it returns true. Fails early when `isDead()` returns a reason
 * (the server process exited), or after `timeoutMs` with the last check error.
 */
export async function waitFor(name, check, { timeoutMs = 60_000, intervalMs = 200, isDead = () => false } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    const dead = isDead();
    if (dead) throw new Error(`${name} exited before it was ready: ${dead}`);
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`${name} was not ready within ${timeoutMs / 1000}s${lastError ? `: ${lastError.message}` : ''}`);
    }
    await sleep(intervalMs);
  }
}

/**
 * Spawns a long-running server with stdout and stderr appended to `logFd`.
 * `stop()` sends `signal` (its clean shutdown), waits up to `graceMs`, then SIGKILLs.
 * If this Node process exits without calling stop(), the server still gets `signal`.
 */
export function spawnServer(command, args, { logFd, env, cwd, uid, gid, signal = 'SIGTERM', graceMs = 20_000 }) {
  const child = spawn(command, args, { env, cwd, uid, gid, stdio: ['ignore', logFd, logFd] });
  let exit = null;
  const exited = new Promise((resolve) => {
    child.once('error', (error) => {
      exit = error.message;
      resolve();
    });
    child.once('exit', (code, sig) => {
      exit ??= sig ? `killed by ${sig}` : `exited with code ${code}`;
      resolve();
    });
  });
  const onParentExit = () => exit === null && child.kill(signal);
  process.once('exit', onParentExit);
  const within = (ms) => Promise.race([exited.then(() => true), sleep(ms).then(() => false)]);
  let stopping;
  const stop = () =>
    (stopping ??= (async () => {
      process.off('exit', onParentExit);
      if (exit !== null) return;
      child.kill(signal);
      if (await within(graceMs)) return;
      child.kill('SIGKILL');
      await within(5_000);
    })());
  return { child, isDead: () => exit ?? false, stop };
}

// A zombie (exited, not yet reaped by init) counts as gone.
export const isAlive = (pid) => {
  try {
    return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

/**
 * A server whose Node parent was SIGKILLed keeps running and holds its data dir (and
 * port); stop it the clean way before starting anew. `matches(argv)` guards against a
 * recycled pid. Returns false when `pid` is not such a server.
 */
export async function stopLeftover(pid, matches, signal, graceMs = 30_000) {
  if (!(pid > 0) || !isAlive(pid)) return false;
  let argv;
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return false;
  }
  if (!matches(argv)) return false;
  console.warn(`[infra] stopping ${argv[0]} (pid ${pid}) left running by a previous run`);
  process.kill(pid, signal);
  for (const deadline = Date.now() + graceMs; isAlive(pid); await sleep(100)) {
    if (Date.now() > deadline) process.kill(pid, 'SIGKILL');
  }
  return true;
}

/**
 * Installs Debian packages when we may (root with apt-get), so a fresh machine
 * provisions itself; otherwise throws with the command to run.
 */
export function aptInstall(packages, why) {
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || !hasCommand('apt-get')) {
    throw new Error(`${why}: install it with \`sudo apt-get install ${packages.join(' ')}\``);
  }
  console.log(`[provision] ${why}: apt-get install ${packages.join(' ')} (once)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  runChecked('apt-get', ['update', '-q'], { env });
  // Waits for another apt-get (a parallel run, unattended upgrades) instead of failing on its lock.
  runChecked('apt-get', ['install', '-y', '-q', '-o', 'DPkg::Lock::Timeout=600', '--no-install-recommends', ...packages], { env });
}
