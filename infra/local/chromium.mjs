// Debian's Chromium for the browser tests (driven by playwright-core; never a downloaded browser).
import { existsSync } from 'node:fs';
import { aptInstall } from './common.mjs';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Returns the path of Debian's Chromium, apt-installing the package once when it is missing. */
export function ensureChromiumInstalled() {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  aptInstall(['chromium'], `the browser tests need Chromium at ${CHROMIUM_PATH}`);
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`apt-get installed chromium but ${CHROMIUM_PATH} is missing`);
  return CHROMIUM_PATH;
}
