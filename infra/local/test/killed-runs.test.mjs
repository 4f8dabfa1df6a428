// A run killed outright (SIGKILL: no chance to stop anything) leaves its broker and Postgres running and their data
// behind; the next run of the same kind stops them and deletes the data, and returns only once both have exited.
// Real Kafka and Postgres, started by a child process that the test then kills.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { isAlive } from '../common.mjs';
import { canKeepKafkaInMemory, clearKilledRuns } from '../ephemeral.mjs';

const root = fileURLToPath(new URL('../../..', import.meta.url));

/** Starts ephemeral infra in a child process and reports its pids once both servers are up. */
async function startInChild(kind, kafkaInMemory) {
  const script = `
    import { startEphemeralInfra } from ${JSON.stringify(new URL('../ephemeral.mjs', import.meta.url).href)};
    const infra = await startEphemeralInfra({ root: ${JSON.stringify(root)}, kind: ${JSON.stringify(kind)}, kafkaInMemory: ${kafkaInMemory} });
    console.log(JSON.stringify({ kafkaPid: infra.kafkaPid, postgresPid: infra.postgresPid, dataDirs: infra.dataDirs }));
    setInterval(() => {}, 60_000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  for await (const line of createInterface({ input: child.stdout })) {
    if (line.startsWith('{')) return { child, ...JSON.parse(line) };
  }
  throw new Error(`the child exited (${child.exitCode}) before its infra was up`);
}

// As root, Postgres runs as an unprivileged account; a checkout that account cannot enter (a clone in a 0700 folder,
// as `mktemp -d` makes them) has its data kept under /var/tmp instead, which the next run must find too.
for (const runsFolder of ['reachable', 'unreachable']) {
  test(`what a killed run left running is stopped, and its data deleted, before the next run of its kind returns (runs folder ${runsFolder} by Postgres's account)`, async () => {
    const kind = `killed-run-test-${runsFolder}-${process.pid}`;
    const runsDir = join(root, '.local', `${kind}-runs`);
    if (runsFolder === 'unreachable') mkdirSync(runsDir, { recursive: true, mode: 0o700 });
    const { child, kafkaPid, postgresPid, dataDirs } = await startInChild(kind, canKeepKafkaInMemory());
    try {
      if (runsFolder === 'unreachable' && process.getuid?.() === 0) {
        assert.ok(dataDirs.some((dir) => dir.startsWith('/var/tmp/chat-pg-')), `Postgres's data is outside the runs folder: ${dataDirs}`);
      }
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      assert.ok(isAlive(kafkaPid) && isAlive(postgresPid), 'both servers outlive the killed run');
      assert.ok(dataDirs.every((dir) => existsSync(dir)));

      await clearKilledRuns({ root, kind });
      // No waiting here: clearKilledRuns returns only once both processes have exited.
      assert.ok(!isAlive(kafkaPid), 'the broker has exited');
      assert.ok(!isAlive(postgresPid), 'Postgres has exited');
      assert.deepEqual(dataDirs.filter((dir) => existsSync(dir)), [], 'their data is gone');
    } finally {
      for (const pid of [kafkaPid, postgresPid]) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
      for (const dir of [...dataDirs, runsDir]) rmSync(dir, { recursive: true, force: true });
    }
  });
}
