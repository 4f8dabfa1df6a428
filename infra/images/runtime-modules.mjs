// The few packages the bundles leave external, copied with their dependencies into a
// node_modules next to bin/. They are copied from the tree `npm ci` installed from the
// lockfile, folder for folder and at the same place in the tree, so the image runs the
// exact versions the bundle was built and tested against, and needs no registry, no
// second resolution and no network to assemble them.
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

// A package's own node_modules is not copied with it: each dependency is copied on its own, once.
const NESTED_MODULES = /[\\/]node_modules([\\/]|$)/;

/** The folder Node would load `name` from when `fromDir` asks for it, or undefined. */
function packageDir(name, fromDir, stopAt) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === stopAt || dirname(dir) === dir) return undefined;
  }
}

/**
 * Copies `names` and everything they depend on from `root`/node_modules into
 * `outDir`/node_modules; returns the copied package folders (relative to node_modules).
 */
export function shipModules(root, names, outDir) {
  const rootModules = join(root, 'node_modules');
  const copied = new Set();
  const queue = names.map((name) => ({ name, fromDir: root, optional: false }));
  while (queue.length > 0) {
    const { name, fromDir, optional } = queue.shift();
    const dir = packageDir(name, fromDir, root);
    if (!dir) {
      if (optional) continue;
      throw new Error(`${name} (needed from ${relative(root, fromDir) || '.'}) is not installed: run npm ci first`);
    }
    const at = relative(rootModules, dir);
    // A copy of a package nested under a workspace would land elsewhere in the shipped tree and resolve differently.
    if (at.startsWith('..')) throw new Error(`${name} resolves to ${relative(root, dir)}, outside the root node_modules`);
    if (copied.has(at)) continue;
    copied.add(at);
    cpSync(dir, join(outDir, 'node_modules', at), { recursive: true, dereference: true, filter: (path) => !NESTED_MODULES.test(path.slice(dir.length)) });
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    for (const dep of Object.keys(manifest.dependencies ?? {})) queue.push({ name: dep, fromDir: dir, optional: false });
    // Optional and peer dependencies ship only when the lockfile installed them (pg-native, pino-pretty are not).
    for (const dep of Object.keys({ ...manifest.optionalDependencies, ...manifest.peerDependencies })) {
      queue.push({ name: dep, fromDir: dir, optional: true });
    }
  }
  return [...copied].sort();
}
