import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const WEB_DIST = join(REPO_ROOT, 'web', 'dist');
const SCREENSHOTS = join(REPO_ROOT, '.local', 'screenshots');

/** Debian's Chromium (installed by scripts/test.mjs when missing), headless, talking to loopback only. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export interface BrowserUser {
  name: string;
  context: BrowserContext;
  page: Page;
  status: Locator;
  /** What Chromium refused under the gateway's Content-Security-Policy, as it logged it. */
  cspViolations: string[];
  /** The headers of the app's page. */
  documentHeaders: Record<string, string>;
}

/** A user in a browser context of their own, signed in through the sign-in form. */
export async function signIn(browser: Browser, baseUrl: string, name: string, transport?: string): Promise<BrowserUser> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 760 } });
  const page = await context.newPage();
  page.on('dialog', (dialog) => {
    throw new Error(`unexpected dialog: ${dialog.message()}`);
  });
  const cspViolations: string[] = [];
  page.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) cspViolations.push(message.text());
  });
  const response = await page.goto(`${baseUrl}/${transport ? `?transport=${transport}` : ''}`);
  const documentHeaders = response ? await response.allHeaders() : {};
  await page.getByLabel('Username').fill(name);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const status = page.getByTestId('connection-status');
  await status.and(page.locator('[data-state=open]')).waitFor();
  return { name, context, page, status, cspViolations, documentHeaders };
}

export async function createRoom(user: BrowserUser, name: string): Promise<string> {
  await user.page.getByLabel('New room').fill(name);
  await user.page.getByRole('button', { name: 'Create' }).click();
  await user.page.getByTestId('room-title').getByText(name).waitFor();
  return (await user.page.locator('.room-entry.active').getAttribute('data-room-id'))!;
}

export async function joinRoom(user: BrowserUser, roomId: string, name: string): Promise<void> {
  await user.page.getByLabel('Join a room').fill(roomId);
  await user.page.getByRole('button', { name: 'Join' }).click();
  await user.page.getByTestId('room-title').getByText(name).waitFor();
}

/** Types into the composer and presses Enter. */
export async function send(user: BrowserUser, text: string): Promise<void> {
  const composer = user.page.getByTestId('composer');
  await composer.fill(text);
  await composer.press('Enter');
}

/** Waits until a delivered (not pending) message with exactly this text is on screen. */
export async function waitForMessage(user: BrowserUser, text: string): Promise<Locator> {
  const message = user.page.getByTestId('message-text').filter({ hasText: text }).last();
  await message.waitFor();
  return message;
}

export async function messageTexts(user: BrowserUser): Promise<string[]> {
  return user.page.getByTestId('message-text').allTextContents();
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}
