#!/usr/bin/env node
/**
 * The import graph of one source folder, by module: a module is a file or folder directly under the folder, so
 * `session/hub.ts` importing `../ports/room-store` is the edge `session → ports`. Tests are left out (they may reach
 * anywhere); imports of other workspace packages (`@chat/*`) are edges too, so a loop through a package shows.
 *
 *   node scripts/import-graph.mjs services/gateway/src
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const IMPORT = /(?:^|\n)\s*(?:import|export)\s(?:[^'"]*?\sfrom\s)?['"]([^'"]+)['"]/g;

function sourceFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|mts)$/.test(name) && !/\.test\.|\.d\.ts$/.test(name) ? [path] : [];
  });
}

/** `session/hub.ts` → `session`; `main.ts` → `main`. */
function moduleOf(root, file) {
  const [first, ...rest] = relative(root, file).split(sep);
  return rest.length > 0 ? first : first.replace(/\.(ts|mts)$/, '');
}

/** Edges `from → to` with the files that make each one, sorted. */
export function importEdges(root) {
  const base = resolve(root);
  const edges = new Map();
  for (const file of sourceFiles(base)) {
    const from = moduleOf(base, file);
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      let to;
      if (specifier.startsWith('.')) to = moduleOf(base, resolve(dirname(file), specifier));
      else if (specifier.startsWith('@chat/')) to = specifier.split('/').slice(0, 2).join('/');
      if (to === undefined || to === from) continue;
      const key = `${from} → ${to}`;
      const files = edges.get(key) ?? new Set();
      files.add(relative(base, file));
      edges.set(key, files);
    }
  }
  return [...edges].sort(([a], [b]) => a.localeCompare(b)).map(([edge, files]) => ({ edge, files: [...files].sort() }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = process.argv[2];
  if (!root) {
    console.error('usage: node scripts/import-graph.mjs <source folder>');
    process.exit(2);
  }
  for (const { edge, files } of importEdges(root)) console.log(`${edge.padEnd(36)} ${files.join(', ')}`);
}
