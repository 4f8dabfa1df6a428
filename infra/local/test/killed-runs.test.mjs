// A run killed outright (SIGKILL: no chance to stop anything) leaves its broker and Postgres running and their data
// behind; the next run of the same kind stops them and deletes the data. Real Kafka and Postgres, started by a child
// process that the test then kills.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { isAlive } from '../common.mjs';
import { canKeepKafkaInMemory, clearKilledRuns } from '../ephemeral.mjs';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const kind = `killed-run-test-${process.pid}`;

/** Starts ephemeral infra in a child process and reports its pids once both servers are up. */
async function startInChild(kafkaInMemory) {
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

test('what a killed run left running is stopped, and its data deleted, before the next run of its kind', async () => {
  const kafkaInMemory = canKeepKafkaInMemory();
  const { child, kafkaPid, postgresPid, dataDirs } = await startInChild(kafkaInMemory);
  try {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    assert.ok(isAlive(kafkaPid) && isAlive(postgresPid), 'both servers outlive the killed run');
    assert.ok(dataDirs.every((dir) => existsSync(dir)));

    await clearKilledRuns({ root, kind });
    assert.ok(!isAlive(kafkaPid), 'the broker is stopped');
    assert.ok(!isAlive(postgresPid), 'Postgres is stopped');
    assert.ok(!dataDirs.some((dir) => existsSync(dir)), 'their data is gone');
  } finally {
    for (const pid of [kafkaPid, postgresPid]) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    for (const dir of [...dataDirs, join(root, '.local', `${kind}-runs`)]) rmSync(dir, { recursive: true, force: true });
  }
});
