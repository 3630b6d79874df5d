/**
 * A real headless Chromium for the end-to-end tests, driven by
 * playwright-core. Uses Debian's `chromium` package, installing it when
 * allowed (root, and LIFELINE_INSTALL_SERVICES not 0); otherwise fails with
 * the package to install. Never skips: a browser test that cannot run fails.
 */
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

function ensureChromium(): void {
  if (existsSync(CHROMIUM_PATH)) return;
  const mayInstall = process.getuid?.() === 0 && process.env.LIFELINE_INSTALL_SERVICES !== '0';
  if (!mayInstall) {
    throw new Error(
      `Chromium is missing (${CHROMIUM_PATH}): install the Debian package "chromium" (apt-get install -y chromium), ` +
        'or run the tests as root with LIFELINE_INSTALL_SERVICES unset so they install it',
    );
  }
  execSync('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium', {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`installing the "chromium" package did not provide ${CHROMIUM_PATH}`);
}

/** Launches headless Chromium (installing the package first if it may). */
export async function launchBrowser(): Promise<Browser> {
  ensureChromium();
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS });
}

/**
 * Signs in on one of the staff pages (`/console`, `/admin`, `/dashboard`)
 * through its login form and waits until the page says it is ready: the
 * console connected (and, when asked, the agent available), or the other
 * pages loaded.
 */
export async function signIn(
  page: Page,
  baseUrl: string,
  username: string,
  options: { page?: 'console' | 'admin' | 'dashboard'; password?: string; available?: boolean } = {},
): Promise<void> {
  const where = options.page ?? 'console';
  await page.goto(`${baseUrl}/${where}`);
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(options.password ?? `${username}-password-123`);
  await page.getByTestId('login-submit').click();
  await page.locator(where === 'console' ? 'body[data-connection="connected"]' : 'body[data-loaded]').waitFor();
  if (options.available) {
    await page.getByTestId('presence').selectOption('available');
    await page.locator('[data-testid="presence"][data-confirmed="available"]').waitFor();
  }
}
