// The gateway's layers, as its imports draw them (scripts/import-graph.mjs prints the graph): ports at the bottom,
// adapters and core beside each other above them and blind to each other, the edge (transports, HTTP routes) above
// the core, and main.ts wiring it all. An import that points up a layer, or from an adapter into the core, fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { importEdges } from '../../../scripts/import-graph.mjs';

const PORTS = ['ports', 'config', 'metrics'];
const ADAPTERS = ['db', 'kafka', 'memory'];
const CORE = ['auth', 'session', 'presence', 'feed-router'];
const EDGE = ['transports', 'http'];

/** What each module may import, besides the workspace's packages. */
const MAY_IMPORT: Record<string, readonly string[]> = {
  ...Object.fromEntries(PORTS.map((module) => [module, []])),
  ...Object.fromEntries(ADAPTERS.map((module) => [module, PORTS])),
  ...Object.fromEntries(CORE.map((module) => [module, [...PORTS, ...CORE]])),
  context: [...PORTS, ...CORE],
  ...Object.fromEntries(EDGE.map((module) => [module, [...PORTS, ...CORE, 'context']])),
  app: [...PORTS, ...EDGE, 'context'],
  main: [...PORTS, ...ADAPTERS, ...CORE, 'context', 'app'],
};

const edges = importEdges(fileURLToPath(new URL('.', import.meta.url)));

test('no import points up a layer, nor between adapters and the core', () => {
  const wrong = edges
    .map(({ edge, files }) => ({ edge, files, from: edge.split(' → ')[0]!, to: edge.split(' → ')[1]! }))
    .filter(({ from, to }) => !to.startsWith('@chat/') && !(MAY_IMPORT[from] ?? []).includes(to))
    .map(({ edge, files }) => `${edge} (${files.join(', ')})`);
  assert.deepEqual(wrong, []);
});

test('every module of the gateway has a layer', () => {
  const modules = new Set(edges.flatMap(({ edge }) => edge.split(' → ')).filter((module) => !module.startsWith('@chat/')));
  assert.deepEqual([...modules].filter((module) => !(module in MAY_IMPORT)), []);
});
