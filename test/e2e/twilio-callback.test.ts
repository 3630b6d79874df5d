/**
 * A call-back task in the console, in a real headless Chromium against a
 * real gateway: texts and a call arrive by signed Twilio webhooks; when the
 * caller hangs up before anyone answered, the call's conversation moves live
 * to the top of the agent's list, above every text, marked as a call-back
 * with a click-to-call tel: link, and its log says what happened.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTwilioAdapter } from '../../adapters/twilio/index.ts';
import { createWebchatAdapter } from '../../adapters/webchat/index.ts';
import { launchBrowser, signIn } from '../support/browser.ts';
import { newSid, startFakeTwilio, type FakeTwilio } from '../support/fake-twilio.ts';
import { ADMIN_PASSWORD, createAgents, login, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { callParams, createTwilioLink, postWebhook, PSAP_NUMBERS, type TwilioLinkRef } from '../support/twilio.ts';
import { waitFor } from '../support/wait.ts';

const TEXTS = [
  ['+15550400001', 'A man with a gun is outside my door'],
  ['+15550400002', 'Fire on the second floor'],
  ['+15550400003', 'help'],
] as const;
const CALLER = '+15550400009';

describe('call-back tasks in the console', () => {
  let gw: TestGateway;
  let fake: FakeTwilio;
  let browser: Browser;
  let context: BrowserContext | undefined;
  let link: TwilioLinkRef;

  beforeAll(async () => {
    fake = await startFakeTwilio();
    [gw, browser] = await Promise.all([
      startTestGateway({}, { adapters: [createWebchatAdapter(), createTwilioAdapter({ apiBaseUrl: fake.url })] }),
      launchBrowser(),
    ]);
    // The page bundle is built on first request: build it while the agent and the link are created.
    await Promise.all([
      // Three texts (1 unit each) and a call (3 units, CHANNEL_WEIGHTS) fit at once.
      createAgents(gw, [{ username: 'alice', capacity: 6 }]),
      (async () => expect((await fetch(`${gw.url}/assets/console.js`)).status).toBe(200))(),
      (async () => {
        link = await createTwilioLink(gw, await login(gw, 'admin', ADMIN_PASSWORD), fake, 'county twilio');
      })(),
    ]);
  });
  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await browser?.close();
    await gw?.destroy();
    await fake?.stop();
  });

  /** Dialogs, script errors and console errors (CSP violations among them). */
  function watch(page: Page, incidents: string[]): void {
    page.on('dialog', (dialog) => {
      incidents.push(`dialog "${dialog.message()}"`);
      void dialog.dismiss();
    });
    page.on('pageerror', (err) => incidents.push(`page error ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') incidents.push(`console error ${msg.text()} (${msg.location().url})`);
    });
  }

  const rowContacts = (page: Page) => page.getByTestId('conversation-row').getByTestId('row-contact').allTextContents();

  it('shows an abandoned call first, above every waiting text, as a call-back with a tel: link', async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(25_000);
    const page = await context.newPage();
    const incidents: string[] = [];
    watch(page, incidents);

    await signIn(page, gw.url, 'alice', { available: true });

    // Three texts and a call reach the agent.
    for (const [from, body] of TEXTS) {
      const res = await postWebhook(gw, link, 'sms', { MessageSid: newSid('SM'), AccountSid: link.accountSid, From: from, To: PSAP_NUMBERS[0]!, Body: body, NumMedia: '0' });
      expect(res.status).toBe(200);
    }
    const call = { sid: newSid('CA'), accountSid: link.accountSid, from: CALLER };
    expect((await postWebhook(gw, link, 'voice', callParams(call, { CallStatus: 'ringing' }))).status).toBe(200);
    await waitFor('four rows', async () => (await page.getByTestId('conversation-row').count()) === 4);
    const before = await rowContacts(page);
    expect(before[0]).toBe(TEXTS[0][0]);
    expect(before.indexOf(CALLER)).toBeGreaterThan(0);
    expect(await page.getByTestId('row-callback').count()).toBe(0);

    // The caller hangs up before anyone answered: the row moves to the top, marked, with the number to call.
    expect((await postWebhook(gw, link, 'voice/status', callParams(call, { CallStatus: 'completed', CallDuration: '9' }))).status).toBe(204);
    const first = page.locator('[data-testid="conversation-list"] > li').first();
    await first.getByTestId('row-callback').waitFor();
    expect(await rowContacts(page)).toEqual([CALLER, TEXTS[0][0], TEXTS[1][0], TEXTS[2][0]]);
    expect(await first.getByTestId('row-callback').textContent()).toBe('Missed call — call back');
    expect(await first.getByTestId('row-channel').textContent()).toBe('Voice');
    const callBack = first.getByTestId('row-call');
    expect(await callBack.getAttribute('href')).toBe(`tel:${CALLER}`);
    expect(await callBack.textContent()).toBe(`Call back ${CALLER}`);
    expect(await page.getByTestId('row-callback').count()).toBe(1);
    expect(await page.getByTestId('row-call').count()).toBe(1);

    // Opened: the call-back is said in the header, with click-to-call, and the log tells what happened.
    await first.getByTestId('conversation-row').click();
    await page.getByTestId('conversation-title').filter({ hasText: CALLER }).waitFor();
    const dial = page.getByTestId('call-link');
    await dial.waitFor();
    expect(await dial.getAttribute('href')).toBe(`tel:${CALLER}`);
    expect(await dial.textContent()).toBe(`Call ${CALLER}`);
    expect(await page.getByTestId('conversation-meta').textContent()).toMatch(/^Missed call — call back · Voice · offered/);
    const log = page.getByTestId('message-log');
    await log.getByTestId('message-body').filter({ hasText: 'Call ended after 0:09' }).waitFor();
    expect(await log.getByTestId('message-body').allTextContents()).toEqual([
      `📞 Incoming call from ${CALLER}`,
      `📞 Missed call — the caller hung up before a call-taker answered. Call back ${CALLER}.`,
      '📞 Call ended after 0:09: not answered (the caller hung up before a call-taker answered).',
    ]);
    expect(await log.getByTestId('message-author').last().textContent()).toBe('Call log (internal note)');

    // A text's conversation: click-to-call too (a phone contact), but no call-back mark.
    await page.getByTestId('conversation-row').filter({ hasText: TEXTS[1][0] }).click();
    await page.getByTestId('conversation-title').filter({ hasText: TEXTS[1][0] }).waitFor();
    expect(await page.getByTestId('call-link').getAttribute('href')).toBe(`tel:${TEXTS[1][0]}`);
    expect(await page.getByTestId('conversation-meta').textContent()).not.toContain('Missed call');

    expect(incidents).toEqual([]);
  });
});
