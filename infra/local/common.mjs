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
 * `stop()` returns once the server has exited: `signal` (its clean shutdown), SIGKILL past `graceMs` (see `stopProcess`).
 * If this Node process exits without calling stop(), the server still gets `signal`.
 */
export function spawnServer(command, args, { logFd, env, cwd, uid, gid, signal = 'SIGTERM', graceMs = 20_000 }) {
  const child = spawn(command, args, { env, cwd, uid, gid, stdio: ['ignore', logFd, logFd] });
  let exit = null;
  child.once('error', (error) => {
    exit ??= error.message;
  });
  child.once('exit', (code, sig) => {
    exit ??= sig ? `killed by ${sig}` : `exited with code ${code}`;
  });
  const onParentExit = () => exit === null && child.kill(signal);
  process.once('exit', onParentExit);
  const name = `${command.split('/').pop()} (pid ${child.pid})`;
  let stopping;
  const stop = () =>
    (stopping ??= (async () => {
      process.off('exit', onParentExit);
      await stopProcess(name, { send: (sig) => child.kill(sig), hasExited: () => exit !== null }, signal, graceMs);
    })());
  return { child, isDead: () => exit ?? false, stop };
}

/**
 * Stops a process and returns only once it has exited: `signal` first (the server's clean shutdown), SIGKILL once
 * `graceMs` have passed without an exit, and an error if it is still there `killMs` after that (a process stuck in
 * the kernel). Callers that delete a server's data or reuse its port rely on the exit having happened.
 */
export async function stopProcess(name, { send, hasExited }, signal, graceMs, killMs = 10_000) {
  const exitedWithin = async (ms) => {
    for (const deadline = Date.now() + ms; !hasExited(); await sleep(50)) if (Date.now() > deadline) return false;
    return true;
  };
  if (hasExited()) return;
  send(signal);
  if (await exitedWithin(graceMs)) return;
  console.warn(`[infra] ${name} did not exit within ${graceMs / 1000}s of ${signal}: SIGKILL`);
  send('SIGKILL');
  if (!(await exitedWithin(killMs))) throw new Error(`${name} is still running ${killMs / 1000}s after SIGKILL`);
}

/** process.kill that takes a process which has just exited (ESRCH) as done. */
function signalPid(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if (error.code !== 'ESRCH') throw error;
  }
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
 * port); stop it the clean way before starting anew, and return once it has exited
 * (`stopProcess`: SIGKILL past `graceMs`). `matches(argv)` guards against a recycled
 * pid. Returns false when `pid` is not such a server.
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
  const name = `${argv[0]} (pid ${pid})`;
  console.warn(`[infra] stopping ${name} left running by a previous run`);
  await stopProcess(name, { send: (sig) => signalPid(pid, sig), hasExited: () => !isAlive(pid) }, signal, graceMs);
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
