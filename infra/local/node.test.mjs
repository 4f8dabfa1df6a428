// The runtime contract of infra/local/node.mjs and scripts/node24.mjs: this run is on Node 24 or newer, the pinned
// Node is one version for every platform, and no installed package asks for a Node the project does not run on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import semver from 'semver';
import { MIN_NODE_MAJOR, pinnedNodeVersion, SERVICE_NODE_OPTIONS } from './node.mjs';

const root = new URL('../../', import.meta.url);
const json = (path) => JSON.parse(readFileSync(new URL(path, root), 'utf8'));

test('npm test runs on Node 24 or newer: the machine’s own if it is, else the pinned one from .local/node', () => {
  assert.ok(semver.major(process.version) >= MIN_NODE_MAJOR, `this test runs on ${process.version}`);
  const pinned = pinnedNodeVersion();
  assert.equal(semver.major(pinned), MIN_NODE_MAJOR);
  const machine = spawnSync('sh', ['-c', 'PATH="$(getconf PATH)" node --version'], { encoding: 'utf8' }).stdout.trim();
  if (machine && semver.major(machine) < MIN_NODE_MAJOR) assert.equal(process.version, `v${pinned}`);
});

test('the pinned Node is locked with its sha512, for every platform it is pinned for', () => {
  const lock = json('infra/local/node/package-lock.json');
  const manifest = json('infra/local/node/package.json');
  for (const [name, version] of Object.entries(manifest.optionalDependencies)) {
    const entry = lock.packages[`node_modules/${name}`];
    assert.equal(entry?.version, version, `${name} in the lockfile`);
    assert.match(entry.integrity, /^sha512-[A-Za-z0-9+/]{86}==$/, `${name}'s integrity`);
  }
});

test('every installed package admits the Node the project runs on, and the root asks for no older one', () => {
  const lock = json('package-lock.json');
  assert.equal(lock.packages[''].engines.node, `>=${MIN_NODE_MAJOR}`);
  const refusing = Object.entries(lock.packages)
    .filter(([, entry]) => typeof entry.engines?.node === 'string')
    .filter(([, entry]) => !semver.satisfies(pinnedNodeVersion(), entry.engines.node))
    .map(([path, entry]) => `${path} (${entry.engines.node})`);
  assert.deepEqual(refusing, []);
});

test('the images start their service with the V8 settings the local stack and the tests use', () => {
  for (const service of ['gateway', 'messaging', 'presence']) {
    const dockerfile = readFileSync(new URL(`services/${service}/Dockerfile`, root), 'utf8');
    const runtimeStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    assert.match(runtimeStage, new RegExp(`^ENV NODE_OPTIONS="${SERVICE_NODE_OPTIONS}"$`, 'm'), `${service}'s runtime stage`);
    assert.match(runtimeStage, /^ENTRYPOINT \["node", /m);
  }
});
