import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serviceIdentity } from './service-identity';

test('a service is named and versioned after the package its entry script belongs to', () => {
  const dir = mkdtempSync(join(tmpdir(), 'identity-'));
  try {
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: '@chat/gateway', version: '1.2.3' }));
    assert.deepEqual(serviceIdentity(join(dir, 'src', 'main.ts'), { INSTANCE_ID: 'gw-0' }), { name: 'gateway', version: '1.2.3', instanceId: 'gw-0' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bundle with no package.json above it, as in the images, is named after its file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'identity-'));
  try {
    assert.deepEqual(serviceIdentity(join(dir, 'bin', 'messaging.mjs'), { INSTANCE_ID: 'm-0' }), { name: 'messaging', version: 'unknown', instanceId: 'm-0' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
