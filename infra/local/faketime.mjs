// Debian's libfaketime, for fault tests that run a service with its wall clock skewed (LD_PRELOAD; no build of ours).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { aptInstall } from './common.mjs';

/** Where Debian puts the library: /usr/lib/<multiarch triplet>/faketime/, e.g. x86_64-linux-gnu. */
export function findLibfaketime() {
  const lib = '/usr/lib';
  if (!existsSync(lib)) return undefined;
  for (const entry of readdirSync(lib)) {
    const candidate = join(lib, entry, 'faketime', 'libfaketime.so.1');
    if (entry.includes('-linux-') && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Returns the path of libfaketime.so.1, apt-installing Debian's package once when it is missing. */
export function ensureLibfaketimeInstalled() {
  const found = findLibfaketime();
  if (found) return found;
  aptInstall(['libfaketime'], 'the clock-skew tests need libfaketime (LD_PRELOAD)');
  const installed = findLibfaketime();
  if (!installed) throw new Error('apt-get installed libfaketime but no /usr/lib/*/faketime/libfaketime.so.1 appeared');
  return installed;
}
