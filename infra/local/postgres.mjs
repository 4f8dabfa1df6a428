// A real PostgreSQL from Debian's packages, in a data directory of the
// project's own, listening on loopback only. Postgres refuses to run as root,
// so as root it runs as the `postgres` system user (created if missing).
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { aptInstall, freePort, requireFromRepo, runChecked, spawnServer, stopLeftover, tail, waitFor } from './common.mjs';

const isRoot = process.getuid?.() === 0;
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * postmaster.pid of a run that did not shut down: a server still running on this data
 * dir (its Node parent was SIGKILLed) gets a fast shutdown, and this returns once it has
 * exited; a dead or recycled pid's file is removed, as Postgres would refuse to start if
 * that pid is alive.
 */
export async function clearStaleLock(dataDir) {
  const lockFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(lockFile)) return;
  const pid = Number(readFileSync(lockFile, 'utf8').split('\n')[0]);
  const ours = (argv) => argv[0].endsWith('postgres') && argv.includes(dataDir);
  if (!(await stopLeftover(pid, ours, 'SIGINT'))) rmSync(lockFile, { force: true });
}

/**
 * Where the data asked for at `dataDir` is kept when the server account cannot reach that folder (a checkout in a
 * folder only root may enter): a folder of its own under /var/tmp, named after `dataDir`.
 */
const fallbackDataDir = (dataDir) => join('/var/tmp', `chat-pg-${createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 12)}`);

/** Every place the data asked for at `dataDir` may be: the folder itself and its fallback. */
export const postgresDataLocations = (dataDir) => [resolve(dataDir), fallbackDataDir(dataDir)];

function findBinDir() {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'initdb')) && existsSync(join(base, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(base, versions[0], 'bin') : null;
}

/** Finds Debian's PostgreSQL server binaries, installing the package when they are missing and we may. */
export async function ensurePostgresInstalled() {
  let binDir = findBinDir();
  if (binDir) return { binDir };
  aptInstall(['postgresql'], 'PostgreSQL server binaries are not under /usr/lib/postgresql');
  binDir = findBinDir();
  if (!binDir) throw new Error('apt-get installed postgresql but no server binaries appeared under /usr/lib/postgresql');
  return { binDir };
}

/** The unprivileged account the server runs as when we are root. */
function serverAccount() {
  if (!isRoot) return null;
  const lookup = (name) => spawnSync('id', ['-u', name], { encoding: 'utf8' });
  let name = 'postgres';
  if (lookup(name).status !== 0) {
    name = 'chatdev';
    if (lookup(name).status !== 0) runChecked('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name]);
  }
  const uid = Number(runChecked('id', ['-u', name]).trim());
  const gid = Number(runChecked('id', ['-g', name]).trim());
  return { name, uid, gid };
}

/** True when `account` can reach `dir`: every parent must be searchable by it. */
function traversable(dir, account) {
  return spawnSync('runuser', ['-u', account.name, '--', 'test', '-x', dir], { stdio: 'ignore' }).status === 0;
}

/**
 * Initialises the data directory on first use, starts the server on
 * 127.0.0.1:`port` (a free one if not given) and waits until it accepts
 * connections. Trust authentication on loopback: a development and test server.
 */
export async function startPostgres({ root = repoRoot, dataDir, port, logFile }) {
  const { binDir } = await ensurePostgresInstalled();
  port ||= await freePort();
  const account = serverAccount();
  dataDir = resolve(dataDir);
  mkdirSync(dirname(dataDir), { recursive: true });
  if (account && !traversable(dirname(dataDir), account)) {
    const fallback = fallbackDataDir(dataDir);
    console.log(`[postgres] ${account.name} cannot reach ${dataDir}; keeping the data in ${fallback} instead`);
    dataDir = fallback;
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (account && statSync(dataDir).uid !== account.uid) chownSync(dataDir, account.uid, account.gid);
  // Postgres refuses a data dir others can read (mkdir's mode does not apply to an existing one).
  chmodSync(dataDir, 0o700);
  const asServer = account ? { uid: account.uid, gid: account.gid } : {};

  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    runChecked(join(binDir, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-instructions'], {
      ...asServer,
      cwd: '/',
    });
  }
  await clearStaleLock(dataDir);
  logFile ??= join(dataDir, 'postgres.log');
  mkdirSync(dirname(logFile), { recursive: true });
  const logFd = openSync(logFile, 'a');
  const server = spawnServer(
    join(binDir, 'postgres'),
    [
      '-D', dataDir,
      '-p', String(port),
      '-c', 'listen_addresses=127.0.0.1',
      // No Unix socket: TCP on loopback only, and no socket-path length limits.
      '-c', 'unix_socket_directories=',
      '-c', 'max_connections=300',
      '-c', 'shared_buffers=128MB',
      '-c', 'fsync=on',
    ],
    // SIGINT is Postgres's fast shutdown: it rolls back open transactions and checkpoints.
    { logFd, env: { ...process.env, LC_ALL: 'C' }, cwd: '/', signal: 'SIGINT', graceMs: 30_000, ...asServer },
  );
  closeSync(logFd);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const pg = requireFromRepo(root, 'pg');
  try {
    await waitFor(
      `Postgres at 127.0.0.1:${port}`,
      async () => {
        const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
        try {
          await client.connect();
          await client.query('SELECT 1');
          return true;
        } finally {
          await client.end().catch(() => undefined);
        }
      },
      { timeoutMs: 60_000, isDead: () => server.isDead() && `${server.isDead()}\n${tail(logFile)}` },
    );
  } catch (error) {
    await server.stop();
    throw error;
  }
  return {
    url,
    host: '127.0.0.1',
    port,
    user: 'postgres',
    dataDir,
    pid: server.child.pid,
    stop: () => server.stop(),
    /**
     * `pg_ctl stop -m immediate`: SIGQUIT, every backend is dropped without a checkpoint (a crash, to recover from WAL
     * on the next start). Returns once the postmaster has exited; `startPostgres` with the same folder and port
     * starts it again.
     */
    async stopImmediate() {
      if (server.isDead()) return;
      server.child.kill('SIGQUIT');
      await waitFor(`Postgres at 127.0.0.1:${port} to exit`, () => Boolean(server.isDead()), { timeoutMs: 30_000, intervalMs: 20 });
    },
  };
}

/** Creates the database if it does not exist yet. */
export async function createDatabase({ root = repoRoot, url, name }) {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unsafe database name ${name}`);
  const pg = requireFromRepo(root, 'pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    // 42P04: a parallel caller created it between the check and here.
    if (rowCount === 0) await client.query(`CREATE DATABASE ${name}`).catch((error) => { if (error.code !== '42P04') throw error; });
  } finally {
    await client.end();
  }
}
