// A node:test reporter that runs beside `spec` in `npm test`: once the run is over, for every test file with a failed
// test, it prints the last lines of the log of each service that file started (testkit's startService writes them
// under TEST_LOG_DIR, a folder per test file), and then of the run's Kafka and Postgres. A red CI then shows why a
// service misbehaved, not only which assertion noticed.
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tail } from '../infra/local/common.mjs';
import { testLogFolder } from '../infra/local/test-logs.mjs';

const LAST_BYTES = 6_000;

function section(title, file) {
  const text = tail(file, LAST_BYTES);
  // Start at a whole line.
  const cut = text.length === LAST_BYTES ? text.slice(text.indexOf('\n') + 1) : text;
  return `\n── last lines of ${title} (${file}) ──\n${cut.trimEnd()}\n`;
}

export default async function* failureLogs(source) {
  const failedFiles = new Set();
  for await (const event of source) {
    if (event.type === 'test:fail' && event.data.file) failedFiles.add(event.data.file);
  }
  const logDir = process.env.TEST_LOG_DIR;
  if (failedFiles.size === 0 || !logDir) return;
  yield `\n══ logs of what the failed tests started ══\n`;
  for (const file of failedFiles) {
    const folder = testLogFolder(logDir, file);
    const logs = existsSync(folder) ? readdirSync(folder).sort() : [];
    yield `\n${relative(process.cwd(), file)}: ${logs.length === 0 ? 'started no service' : `${logs.length} service log(s)`}\n`;
    for (const log of logs) yield section(log.replace(/\.log$/, ''), join(folder, log));
  }
  for (const [title, file] of (process.env.TEST_INFRA_LOGS ?? '').split(',').filter(Boolean).map((entry) => entry.split('='))) {
    yield section(title, file);
  }
}
