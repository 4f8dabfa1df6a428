// Where a test file's services write their logs during `npm test`: one folder per test file under TEST_LOG_DIR, so that
// the failure-logs reporter prints the logs of exactly what a failed file started.
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The folder of `testFile`'s service logs: its path from the repo root, slashes made into `__`. */
export const testLogFolder = (logDir, testFile) => join(logDir, relative(root, resolve(testFile)).replaceAll('/', '__'));
