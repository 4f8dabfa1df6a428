// Small process/port helpers shared by kafka.mjs and postgres.mjs. Node built-ins only.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Loads a package from the repo root node_modules (kafkajs, pg). Lazy so the install
 * steps run before `npm ci`; SMOKE_MODULES (a node_modules dir) is a fallback for
 * running the smoke check against a scratch install.
 */
export function requireModule(name) {
  const bases = [new URL('../../package.json', import.meta.url).pathname];
  if (process.env.SMOKE_MODULES) bases.push(join(process.env.SMOKE_MODULES, '..', 'package.json'));
  for (const base of bases) {
    try {
      return createRequire(base)(name);
    } catch (error) {
      if (error.code !== 'MODULE_NOT_FOUND') throw error;
    }
  }
  throw new Error(`cannot load '${name}': run \`npm ci\` at the repo root (or set SMOKE_MODULES to a node_modules dir that has it)`);
}

/** Ports the OS considers free right now; all held open together so they differ. */
export async function freePorts(count) {
  const servers = await Promise.all(
    Array.from({ length: count }, () =>
      new Promise((resolve, reject) => {
        const server = createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve(server));
      }),
    ),
  );
  const ports = servers.map((server) => server.address().port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/** The last `bytes` of a log file, for error messages. */
export function tail(file, bytes = 3000) {
  let fd;
  try {
    fd = openSync(file, 'r');
    const size = statSync(file).size;
    const buffer = Buffer.alloc(Math.min(bytes, size));
    readSync(fd, buffer, 0, buffer.length, size - buffer.length);
    return buffer.toString('utf8');
  } catch {
    return '(no log)';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export const hasExited = (child) => child.exitCode !== null || child.signalCode !== null;

function waitForExit(child, ms) {
  if (hasExited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Sends `signal`, then SIGKILL if the child has not exited within `graceMs`. */
export async function terminate(child, signal, graceMs) {
  if (hasExited(child)) return;
  child.kill(signal);
  if (await waitForExit(child, graceMs)) return;
  child.kill('SIGKILL');
  await waitForExit(child, 5000);
}

/**
 * Children run in their own process group (so a terminal Ctrl-C reaches only the Node
 * parent, which stops them in order). If the parent exits without calling stop(),
 * they still get their clean-shutdown signal.
 */
export function stopOnParentExit(child, signal) {
  const onExit = () => hasExited(child) || child.kill(signal);
  process.once('exit', onExit);
  return () => process.off('exit', onExit);
}

const isAlive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
};

/**
 * A server left running by a previous run whose Node parent was SIGKILLed still holds
 * the data dir; stop it the clean way. `matches(argv)` guards against a recycled pid.
 * Returns true if the pid was not (or is no longer) a live matching process.
 */
export async function stopLeftover(pid, matches, signal, graceMs) {
  if (!pid || !isAlive(pid)) return;
  let argv;
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return;
  }
  if (!matches(argv)) return;
  console.warn(`[infra] stopping leftover process ${pid} (${argv[0]}) from a previous run`);
  process.kill(pid, signal);
  for (const deadline = Date.now() + graceMs; Date.now() < deadline; await sleep(100)) {
    if (!isAlive(pid)) return;
  }
  process.kill(pid, 'SIGKILL');
  while (isAlive(pid)) await sleep(100);
}

/** Runs a command to completion; rejects with its output when it fails. */
export function run(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve(output);
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${output.slice(-4000)}`));
    });
  });
}
