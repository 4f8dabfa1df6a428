#!/usr/bin/env node
// Builds the k6 the load tests run into .local/bin/k6: k6 (pinned in
// loadtest/k6/go.mod) plus the SSE module in loadtest/k6/sse, with the machine's
// own Go (GOTOOLCHAIN=local: never a downloaded toolchain). Skipped when the
// binary was built from the same sources; a cold build takes a few minutes.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const sourceDir = join(root, 'loadtest', 'k6');
export const K6_BINARY = join(root, '.local', 'bin', 'k6');
const stampFile = `${K6_BINARY}.sources`;

const goEnv = { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly', CGO_ENABLED: '0' };

/** What the binary is built from: the Go sources, the module pins and the Go version. */
function sourcesDigest() {
  const hash = createHash('sha256');
  const files = ['go.mod', 'go.sum', 'main.go', ...readdirSync(join(sourceDir, 'sse')).map((file) => join('sse', file))];
  for (const file of files.sort()) hash.update(file).update(readFileSync(join(sourceDir, file)));
  const go = spawnSync('go', ['version'], { env: goEnv, encoding: 'utf8' });
  if (go.error || go.status !== 0) {
    throw new Error('building k6 needs Go 1.25 or newer on the PATH (the module proxy serves the pinned modules)');
  }
  return hash.update(go.stdout).digest('hex');
}

/** Builds .local/bin/k6 unless it is already built from these sources; returns its path. */
export function ensureK6() {
  const digest = sourcesDigest();
  if (existsSync(K6_BINARY) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === digest) return K6_BINARY;
  mkdirSync(join(root, '.local', 'bin'), { recursive: true });
  console.log('[k6] building k6 with the SSE module (once; a few minutes on a cold Go cache)…');
  const started = Date.now();
  const build = spawnSync('go', ['build', '-trimpath', '-o', K6_BINARY, '.'], { cwd: sourceDir, env: goEnv, stdio: 'inherit' });
  if (build.error || build.status !== 0) throw new Error(`go build of k6 failed (${build.error?.message ?? `exit ${build.status}`})`);
  writeFileSync(stampFile, digest);
  console.log(`[k6] built ${K6_BINARY} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return K6_BINARY;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) ensureK6();
