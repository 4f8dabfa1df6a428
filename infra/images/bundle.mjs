#!/usr/bin/env node
// Bundles each service, and the setup commands of the Helm hooks, into one ES module
// file per entry with esbuild: an image then needs Node and these files, no
// node_modules, no tsx. `node infra/images/bundle.mjs [outDir]` (default dist/app):
//   <outDir>/bin/{gateway,messaging,presence,migrate,create-topics}.mjs
//   <outDir>/migrations/*.sql   (the migration runner finds them at ../migrations from bin/)
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../..', import.meta.url));

export const ENTRIES = {
  gateway: 'services/gateway/src/main.ts',
  messaging: 'services/messaging/src/main.ts',
  presence: 'services/presence/src/main.ts',
  migrate: 'packages/db/src/cli.ts',
  'create-topics': 'packages/kafka/src/cli.ts',
};

export async function bundle(outDir = join(root, 'dist', 'app')) {
  outDir = resolve(outDir);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(join(outDir, 'bin'), { recursive: true });
  await build({
    absWorkingDir: root,
    entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, entry]) => [name, join(root, entry)])),
    outdir: join(outDir, 'bin'),
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // CommonJS dependencies (kafkajs, pg, ws) call require() for built-ins: give ESM a require.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    // Optional native add-ons the libraries try and do without.
    external: ['pg-native', 'bufferutil', 'utf-8-validate'],
    sourcemap: 'linked',
    legalComments: 'linked',
    logLevel: 'warning',
  });
  cpSync(join(root, 'packages', 'db', 'migrations'), join(outDir, 'migrations'), { recursive: true });
  return outDir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  const outDir = await bundle(process.argv[2]);
  console.log(`bundled ${Object.keys(ENTRIES).join(', ')} into ${outDir} in ${Date.now() - started} ms`);
}
