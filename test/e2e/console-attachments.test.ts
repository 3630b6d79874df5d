/**
 * Attachments in the console, in a real headless Chromium against a real
 * gateway: a citizen's photo shows inline (fetched with the agent's token),
 * other files download with their bytes intact, names stay text, a missing
 * one says so, and the photos' blob URLs are revoked when the view clears.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putAttachments } from '../../src/store/attachments.ts';
import { launchBrowser, signIn } from '../support/browser.ts';
import { createAgents, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { CHECKERBOARD_PNG } from '../support/png.ts';

const TEXT = 'This is the smoke from the window, photo attached';
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
const HOSTILE_NAME = '<img src=x onerror=alert(1)>.html';

describe('attachments in the console', () => {
  let gw: TestGateway;
  let browser: Browser;
  let context: BrowserContext | undefined;

  beforeAll(async () => {
    [gw, browser] = await Promise.all([startTestGateway(), launchBrowser()]);
    // The page bundle is built on first request: build it while the agent is created.
    await Promise.all([
      createAgents(gw, [{ username: 'alice', capacity: 3 }]),
      (async () => expect((await fetch(`${gw.url}/assets/console.js`)).status).toBe(200))(),
    ]);
  });
  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await browser?.close();
    await gw?.destroy();
  });

  /** Dialogs, script errors and console errors (CSP violations among them), except the one expected failed load. */
  function watch(page: Page, incidents: string[], expectedFailure: string): void {
    page.on('dialog', (dialog) => {
      incidents.push(`dialog "${dialog.message()}"`);
      void dialog.dismiss();
    });
    page.on('pageerror', (err) => incidents.push(`page error ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      if (msg.location().url.endsWith(expectedFailure) && msg.text().includes('404')) return;
      incidents.push(`console error ${msg.text()} (${msg.location().url})`);
    });
  }

  it('shows a photo inline, downloads other files, names stay text, and blob URLs go with the view', async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    context.setDefaultTimeout(25_000);
    const page = await context.newPage();

    // An agent signs in and becomes available.
    await signIn(page, gw.url, 'alice', { available: true });

    // A citizen's message with a photo, a PDF, a file with a hostile name, and a photo whose content is gone.
    const stored = await putAttachments(gw.store.db, [
      { name: 'smoke.png', contentType: 'image/png', content: CHECKERBOARD_PNG },
      { name: 'Lageplan.pdf', contentType: 'application/pdf', content: PDF },
      { name: HOSTILE_NAME, contentType: 'text/html', content: Buffer.from('<script>alert(2)</script>') },
    ]);
    const [link] = await gw.store.sql`select id from channel_links where name = 'webchat'`;
    const { messageId } = await gw.receive({
      channel: 'webchat',
      channelLinkId: link!.id as string,
      from: `citizen-${randomUUID()}`,
      fromName: 'Dana',
      channelMessageId: randomUUID(),
      text: TEXT,
      attachments: [...stored, { name: 'lost.jpg', contentType: 'image/jpeg', size: 2048, sha256: 'e'.repeat(64) }],
      receivedAt: new Date(),
    });
    const incidents: string[] = [];
    watch(page, incidents, `/api/messages/${messageId}/attachments/3`);

    // The offer arrives; the agent opens and accepts it and sees the text.
    const row = page.getByTestId('conversation-row').filter({ hasText: 'Dana' });
    await row.click();
    await page.getByTestId('accept').click();
    await page.locator('[data-testid="reply"]:enabled').waitFor();
    const message = page.getByTestId('message-log').getByTestId('message').filter({ hasText: TEXT });
    await message.waitFor();
    expect(await message.getByTestId('message-body').textContent()).toBe(TEXT);
    const items = message.getByTestId('attachment');
    expect(await items.evaluateAll((nodes) => nodes.map((n) => (n as HTMLElement).dataset.kind))).toEqual(['photo', 'file', 'file', 'photo']);

    // The photo loads from a blob URL, decoded, with its name as alt text, name and size beside it.
    const photo = items.nth(0);
    const img = photo.locator('img');
    await img.waitFor();
    expect(await img.getAttribute('alt')).toBe('smoke.png');
    const src = (await img.getAttribute('src')) ?? '';
    expect(src).toMatch(/^blob:/);
    expect(await img.evaluate((node) => (node as HTMLImageElement).naturalWidth)).toBe(8);
    expect(await photo.getByTestId('attachment-caption').textContent()).toBe(`smoke.png · ${CHECKERBOARD_PNG.length} B`);

    // Clicking (or Enter on) the photo shows it larger and back.
    const toggle = photo.getByTestId('attachment-photo');
    await toggle.click();
    expect(await toggle.getAttribute('aria-pressed')).toBe('true');
    await toggle.focus();
    await toggle.press('Enter');
    expect(await toggle.getAttribute('aria-pressed')).toBe('false');

    // The PDF is a download button; the download carries the exact bytes and the name.
    const pdf = items.nth(1);
    expect(await pdf.getByTestId('attachment-caption').textContent()).toBe(`application/pdf · ${PDF.length} B`);
    const button = pdf.getByRole('button', { name: 'Download Lageplan.pdf' });
    const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
    expect(download.suggestedFilename()).toBe('Lageplan.pdf');
    expect((await readFile(await download.path())).equals(PDF)).toBe(true);

    // A hostile name is literal text on a download button; nothing of it runs or renders.
    expect(await items.nth(2).getByTestId('attachment-download').textContent()).toBe(`Download ${HOSTILE_NAME}`);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await message.locator('img').count()).toBe(1);

    // A photo whose content is gone says so in words.
    const lost = items.nth(3).getByTestId('attachment-error');
    await lost.waitFor();
    expect(await lost.textContent()).toBe('Could not load lost.jpg');

    // Clearing the view (signing out) revokes the photo's blob URL.
    // Read through a fresh image: the page CSP lets blob: URLs into img-src only.
    const read = (url: string) =>
      page.evaluate(
        (u) =>
          new Promise<string>((resolve) => {
            const probe = new Image();
            probe.onload = () => resolve('readable');
            probe.onerror = () => resolve('revoked');
            probe.src = u;
          }),
        url,
      );
    expect(await read(src)).toBe('readable');
    expect(incidents).toEqual([]);
    await page.getByTestId('logout').click();
    await page.getByTestId('login-form').waitFor();
    expect(await read(src)).toBe('revoked');
    // The browser reports the probe of the revoked URL, and nothing else went wrong meanwhile.
    expect(incidents).toEqual([expect.stringMatching(/^console error Failed to load resource: net::ERR_FILE_NOT_FOUND \(blob:/)]);
  });
});
