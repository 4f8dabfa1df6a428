// The small process supervisor of `npm start`: each service runs as a child
// process, its JSON log lines summarized on the console and kept whole in a log
// file; a service that exits is restarted with backoff until the stack stops.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { serviceNodeOptions } from './node.mjs';

/** One service line for the console; the full JSON goes to the log file. */
function summarize(name, line) {
  try {
    const record = JSON.parse(line);
    if (record.level === 'debug' || record.level === 'trace') return null;
    const error = record.err?.message ? ` (${record.err.message})` : '';
    return `[${name}] ${record.level} ${record.msg ?? ''}${error}`;
  } catch {
    return `[${name}] ${line}`;
  }
}

/**
 * `supervise(name, service, env)` runs services/<service>/src/main.ts as `name`
 * (replicas get names of their own); `stop()` sends each SIGTERM, newest first,
 * and waits for it. `say` prints the supervisor's own lines.
 */
export function createSupervisor({ root, logDir, env = process.env, say }) {
  let stopping = false;
  const stops = [];

  function supervise(name, service, serviceEnv) {
    const logFile = join(logDir, `${name}.log`);
    const log = createWriteStream(logFile, { flags: 'a' });
    let child;
    let restarts = 0;
    const launch = () => {
      // The telemetry bootstrap comes before the service: it exports traces when OTEL_EXPORTER_OTLP_ENDPOINT is set.
      child = spawn(process.execPath, ['--import', 'tsx', '--import', '@chat/telemetry/register', `services/${service}/src/main.ts`], {
        cwd: root,
        env: { ...env, ...serviceEnv, NODE_OPTIONS: serviceNodeOptions(serviceEnv.NODE_OPTIONS ?? env.NODE_OPTIONS) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const launchedAt = Date.now();
      let buffered = '';
      const onData = (chunk) => {
        log.write(chunk);
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop();
        for (const line of lines) {
          const summary = line && summarize(name, line);
          if (summary) console.log(summary);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('exit', (code, signal) => {
        if (stopping) return;
        // A process that ran a while before failing starts over with a short delay.
        if (Date.now() - launchedAt > 60_000) restarts = 0;
        const delay = Math.min(1000 * 2 ** restarts++, 15_000);
        say(`${name} exited (${signal ?? code}); restarting in ${delay} ms — see ${logFile}`);
        setTimeout(() => !stopping && launch(), delay);
      });
    };
    launch();
    stops.push(
      () =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', resolve);
          child.kill('SIGTERM');
        }),
    );
  }

  async function waitReady(name, url, timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !stopping) {
      if (await fetch(`${url}/readyz`).then((r) => r.ok, () => false)) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`${name} did not become ready at ${url} within ${timeoutMs / 1000}s; see ${join(logDir, `${name}.log`)}`);
  }

  async function stop() {
    stopping = true;
    while (stops.length) await stops.pop()().catch((error) => console.error(error));
  }

  return { supervise, waitReady, stop, isStopping: () => stopping };
}
