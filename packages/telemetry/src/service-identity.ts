import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';

export interface ServiceIdentity {
  name: string;
  version: string;
  instanceId: string;
}

/**
 * Who is running, for the resource attributes: the name and version of the
 * package whose entry script this process runs (services/gateway → "gateway"),
 * or, for a bundle with no package.json above it (the images' /app/bin/gateway.mjs), the
 * file's name; and the instance id the services themselves use (INSTANCE_ID, else host-pid).
 * OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES still override these.
 */
export function serviceIdentity(entryScript = process.argv[1] ?? '', env = process.env): ServiceIdentity {
  const instanceId = env.INSTANCE_ID || `${hostname()}-${process.pid}`;
  for (let dir = dirname(entryScript); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      const { name, version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (name) return { name: name.replace(/^@[^/]+\//, ''), version: version ?? 'unknown', instanceId };
    } catch {
      // No package.json here: look further up.
    }
  }
  return { name: basename(entryScript).replace(/\.[cm]?[jt]s$/, '') || 'unknown_service', version: 'unknown', instanceId };
}
