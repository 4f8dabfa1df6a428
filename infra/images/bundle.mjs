#!/usr/bin/env node
// Bundles each service, the telemetry bootstrap and the setup commands of the Helm hooks
// into one ES module file per entry with esbuild: an image then needs Node, these files
// and a small node_modules, no tsx. `node infra/images/bundle.mjs [outDir]` (default dist/app):
//   <outDir>/bin/{gateway,messaging,presence,migrate,create-topics,telemetry}.mjs
//   <outDir>/migrations/*.sql   (the migration runner finds them at ../migrations from bin/)
//   <outDir>/node_modules/      (RUNTIME_PACKAGES and their dependencies, found from bin/)
// A service runs as `node --import <outDir>/bin/telemetry.mjs <outDir>/bin/<service>.mjs`,
// the bootstrap first, as `npm start` runs the sources.
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { shipModules } from './runtime-modules.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));

export const ENTRIES = {
  gateway: 'services/gateway/src/main.ts',
  messaging: 'services/messaging/src/main.ts',
  presence: 'services/presence/src/main.ts',
  migrate: 'packages/db/src/cli.ts',
  'create-topics': 'packages/kafka/src/cli.ts',
  telemetry: 'packages/telemetry/src/register.ts',
};

/**
 * Left out of the bundles and shipped as packages. OpenTelemetry patches pg and pino when
 * Node loads them (require-in-the-middle, import-in-the-middle): code inlined into a bundle
 * is never loaded as `pg` or `pino`, so it would run unpatched. import-in-the-middle is the
 * ESM hook itself: Node resolves its hook.mjs at run time, and the wrappers the hook
 * writes share one registry with the Hook the instrumentations create, so every user must
 * load the one copy on disk. Fastify stays bundled: @fastify/otel reaches each instance
 * through diagnostics_channel ('fastify.initialization'), which inlined code publishes too;
 * http is a built-in, always loaded by Node.
 */
export const RUNTIME_PACKAGES = ['pg', 'pino', 'import-in-the-middle'];

/**
 * kafkajs' producer takes its sendMessages from src/producer/sendMessages.js when it loads; in development
 * packages/kafka/src/kafkajs-fixes.ts puts its replacement in Node's module cache first, and in a bundle, where kafkajs
 * is inlined, this puts it in that module's place (docs/kafka.md: a retry dropped a partition that moved).
 */
const kafkajsFixes = {
  name: 'kafkajs-fixes',
  setup(build) {
    build.onLoad({ filter: /[\\/]kafkajs[\\/]src[\\/]producer[\\/]sendMessages\.js$/ }, () => ({
      contents: `module.exports = require(${JSON.stringify(join(root, 'packages', 'kafka', 'src', 'kafkajs-fixes.ts'))}).createSendMessages;`,
      loader: 'js',
    }));
  },
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
    external: ['pg-native', 'bufferutil', 'utf-8-validate', ...RUNTIME_PACKAGES],
    plugins: [kafkajsFixes],
    sourcemap: 'linked',
    legalComments: 'linked',
    logLevel: 'warning',
  });
  cpSync(join(root, 'packages', 'db', 'migrations'), join(outDir, 'migrations'), { recursive: true });
  shipModules(root, RUNTIME_PACKAGES, outDir);
  return outDir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  const outDir = await bundle(process.argv[2]);
  console.log(`bundled ${Object.keys(ENTRIES).join(', ')} into ${outDir} (with ${RUNTIME_PACKAGES.join(', ')}) in ${Date.now() - started} ms`);
}
