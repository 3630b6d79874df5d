/**
 * The admin page in a real headless Chromium against a real gateway: an
 * administrator adds an SMPP client link pointing at an in-process SMSC and
 * sees its live status turn up with counters; a bad port is refused with the
 * error beside the port input and nothing created; an agent is added.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, signIn } from '../support/browser.ts';
import { ADMIN_PASSWORD, api, login, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { FakeSmsc } from '../support/smsc.ts';

function watch(page: Page, incidents: string[]): void {
  page.on('dialog', (dialog) => {
    incidents.push(`dialog "${dialog.message()}"`);
    void dialog.dismiss();
  });
  page.on('pageerror', (err) => incidents.push(`page error ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    // The refused link (bad port) is a 400 the browser logs; nothing else may fail.
    if (msg.location().url.endsWith('/api/links') && msg.text().includes('400')) return;
    incidents.push(`console error ${msg.text()}`);
  });
}

describe('admin page in a browser', () => {
  let gw: TestGateway;
  let browser: Browser;
  let smsc: FakeSmsc;
  let context: BrowserContext | undefined;

  beforeAll(async () => {
    [gw, browser, smsc] = await Promise.all([
      // Short leases: the link's status in the store follows within half a second.
      startTestGateway({ LINK_LEASE_MS: '1500' }),
      launchBrowser(),
      FakeSmsc.start({ systemId: 'psap1', password: 'pw1' }),
    ]);
    expect((await fetch(`${gw.url}/assets/admin.js`)).status).toBe(200);
  });
  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await browser?.close();
    await gw?.destroy();
    await smsc?.stop();
  });

  it('adds an SMPP link (a bad port is refused beside the input) and an agent, and shows the link up with counters', async () => {
    const incidents: string[] = [];
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(25_000);
    const page = await context.newPage();
    watch(page, incidents);
    const admin = await login(gw, 'admin', ADMIN_PASSWORD);

    await signIn(page, gw.url, 'admin', { page: 'admin', password: ADMIN_PASSWORD });
    expect(await page.getByTestId('whoami').textContent()).toContain('(admin)');

    // A bad port: the error shows beside the port input and nothing is created.
    const form = page.getByTestId('links-form');
    const input = (path: string) => form.locator(`[data-field="${path}"]`);
    await input('channel').selectOption('sms');
    await input('name').fill('carrier-a');
    await input('settings.host').fill('127.0.0.1');
    await input('settings.port').fill('70000');
    await input('settings.systemId').fill('psap1');
    await input('secrets.password').fill('pw1');
    await page.getByTestId('links-submit').click();
    const port = input('settings.port');
    await form.locator('[data-field="settings.port"][aria-invalid="true"]').waitFor();
    const errorId = await port.getAttribute('aria-describedby');
    expect(errorId).toBeTruthy();
    const error = page.locator(`#${errorId}`);
    expect(await error.isVisible()).toBe(true);
    expect(await error.textContent()).toMatch(/65535/);
    // The message sits in the port's own field, not elsewhere on the form.
    expect(await form.locator('.field:has(> [data-field="settings.port"]) > .field-error').textContent()).toBe(await error.textContent());
    expect(await form.locator('[aria-invalid="true"]').count()).toBe(1);
    // (The built-in web chat link is the only one.)
    const none = await api<{ links: Array<{ channel: string }> }>(gw, 'GET', '/api/links', { token: admin });
    expect(none.body.links.map((l) => l.channel)).toEqual(['webchat']);
    expect(smsc.binds).toEqual([]);

    // The right port: created, bound, and shown up with its counters.
    await port.fill(String(smsc.port));
    await page.getByTestId('links-submit').click();
    await form.locator('[aria-invalid="true"]').waitFor({ state: 'detached' });
    const row = page.getByTestId('links-row').filter({ hasText: 'carrier-a' });
    await row.locator('[data-testid="link-state"][data-state="up"]').waitFor();
    expect(smsc.boundCount).toBeGreaterThanOrEqual(1);
    const stored = await api<{ links: Array<{ channel: string; name: string; settings: { port: number; mode: string } }> }>(gw, 'GET', '/api/links', { token: admin });
    const sms = stored.body.links.filter((l) => l.channel === 'sms');
    expect(sms.map((l) => [l.name, l.settings.mode, l.settings.port])).toEqual([['carrier-a', 'client', smsc.port]]);
    // Counters: the bind is a PDU each way; the row shows what the runner counts.
    const pdusOut = row.locator('[data-testid="link-counters"] [data-counter="pdusOut"]');
    await pdusOut.waitFor();
    expect(Number((await pdusOut.textContent())?.replace('pdusOut', '').trim())).toBeGreaterThanOrEqual(1);
    expect(await row.locator('[data-testid="link-counters"] [data-counter="messagesIn"]').textContent()).toBe('messagesIn 0');

    // An agent, created from the agents form.
    const agents = page.getByTestId('agents-form');
    await agents.locator('[data-field="username"]').fill('dora');
    await agents.locator('[data-field="displayName"]').fill('Dora Dispatcher');
    await agents.locator('[data-field="password"]').fill('dora-password-123');
    await agents.locator('[data-field="role"]').selectOption('supervisor');
    await agents.locator('[data-field="capacity"]').fill('4');
    await agents.locator('[data-field="phone"]').fill('+1 555 0100');
    await page.getByTestId('agents-submit').click();
    await page.getByTestId('agents-row').filter({ hasText: 'Dora Dispatcher' }).waitFor();
    const listed = await api<{ agents: Array<{ username: string; role: string; capacity: number; phone: string | null; displayName: string }> }>(gw, 'GET', '/api/agents', {
      token: admin,
    });
    const dora = listed.body.agents.find((a) => a.username === 'dora');
    expect(dora).toMatchObject({ role: 'supervisor', capacity: 4, phone: '+1 555 0100', displayName: 'Dora Dispatcher' });
    expect(incidents).toEqual([]);
  });
});
