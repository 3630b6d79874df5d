/**
 * The agent console and the citizen chat in a real headless Chromium against
 * a real gateway (PostgreSQL, Redis, BullMQ workers): sign in through the
 * form, a citizen's message offered live, accept, reply, typing both ways,
 * delivery status, hostile message bodies shown as text, resume after reload.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../support/browser.ts';
import { api, createAgents, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { waitFor } from '../support/wait.ts';

const FIRE = 'There is a fire in my building, 3rd floor, 12 Elm Street';
const ACK = 'A 911 call-taker has seen your message and is with you now.';
const REPLY = 'Help is on the way. Are you safe?';
const XSS = '<img src=x onerror=alert(1)>';
const AGAIN = 'Still here, the smoke is getting worse';

/** What a page did that a user should never see: dialogs, script errors, console errors (CSP violations among them). */
function watch(page: Page, name: string, incidents: string[]): void {
  page.on('dialog', (dialog) => {
    incidents.push(`${name}: dialog "${dialog.message()}"`);
    void dialog.dismiss();
  });
  page.on('pageerror', (err) => incidents.push(`${name}: page error ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    // The browser logs the deliberately wrong sign-in's 401; nothing else may fail.
    if (msg.location().url.endsWith('/api/auth/login') && msg.text().includes('401')) return;
    incidents.push(`${name}: console error ${msg.text()}`);
  });
}

const bodies = (page: Page, log: string) => page.getByTestId(log).getByTestId('message-body').allTextContents();

describe('console and citizen chat in a browser', () => {
  let gw: TestGateway;
  let browser: Browser;
  let alice: { id: string; token: string };
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    [gw, browser] = await Promise.all([startTestGateway(), launchBrowser()]);
    // The page bundles are built on first request: build them while the agent is created.
    const [agents] = await Promise.all([
      createAgents(gw, [{ username: 'alice', capacity: 3 }]),
      ...['console', 'chat'].map(async (name) => expect((await fetch(`${gw.url}/assets/${name}.js`)).status).toBe(200)),
    ]);
    alice = agents[0]!;
  });
  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await gw?.destroy();
  });

  async function newPage(options: Parameters<Browser['newContext']>[0]): Promise<Page> {
    const context = await browser.newContext(options);
    // Generous for a loaded CI machine; the one timing the issue asks for (offer within 2 s) is asserted on its own below.
    context.setDefaultTimeout(25_000);
    contexts.push(context);
    return context.newPage();
  }

  it('offers a citizen chat to a signed-in agent, who accepts and replies; bodies stay text; reload resumes', async () => {
    const incidents: string[] = [];
    const [agent, citizen] = await Promise.all([
      newPage({ viewport: { width: 1280, height: 800 } }),
      newPage({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true }),
    ]);
    watch(agent, 'console', incidents);
    watch(citizen, 'chat', incidents);

    // The agent signs in through the form (a wrong password is refused first) and becomes available.
    await agent.goto(`${gw.url}/console`);
    await agent.getByTestId('login-username').fill('alice');
    await agent.getByTestId('login-password').fill('not-the-password');
    await agent.getByTestId('login-submit').click();
    await agent.getByTestId('status-line').filter({ hasText: 'Wrong username or password' }).waitFor();
    await agent.getByTestId('login-password').fill('alice-password-123');
    await agent.getByTestId('login-submit').click();
    await agent.locator('body[data-connection="connected"]').waitFor();
    expect(await agent.getByTestId('whoami').textContent()).toBe('alice (agent)');
    await agent.getByTestId('presence').selectOption('available');
    await agent.locator('[data-testid="presence"][data-confirmed="available"]').waitFor();
    const me = await api<{ agent: { presence: string } }>(gw, 'GET', '/api/auth/me', { token: alice.token });
    expect(me.body.agent.presence).toBe('available');

    // The citizen writes; the offer must reach the console within 2 s of the send.
    await citizen.goto(`${gw.url}/chat`);
    await citizen.locator('body[data-connection="connected"]').waitFor();
    await citizen.getByTestId('name').fill('Dana');
    await citizen.getByTestId('message-input').fill(FIRE);
    const sentAt = Date.now();
    await citizen.getByTestId('send').click();
    const row = agent.getByTestId('conversation-row').filter({ hasText: 'Dana' });
    await row.waitFor({ timeout: Math.max(1, 2000 - (Date.now() - sentAt)) });
    expect(Date.now() - sentAt).toBeLessThan(2000);

    const mine = citizen.getByTestId('message').filter({ hasText: FIRE });
    await mine.getByTestId('send-status').filter({ hasText: /^sent$/ }).waitFor();
    await citizen.getByTestId('start').waitFor({ state: 'hidden' });

    // The row shows contact, channel, status, priority and a waiting time that ticks.
    expect(await row.getByTestId('row-contact').textContent()).toBe('Dana');
    expect(await row.getByTestId('row-channel').textContent()).toBe('Web chat');
    expect(await row.getByTestId('row-status').textContent()).toBe('offered');
    expect(await row.getByTestId('row-priority').textContent()).toMatch(/^P\d+$/);
    const waiting = row.getByTestId('row-waiting');
    const firstWaiting = (await waiting.textContent()) ?? '';
    expect(firstWaiting).toMatch(/^waiting \d+:\d\d$/);
    await waitFor('the waiting time to tick', async () => (await waiting.textContent()) !== firstWaiting, 3000);

    // Open, accept, and see the history.
    await row.click();
    await agent.getByTestId('message-log').getByTestId('message-body').filter({ hasText: FIRE }).waitFor();
    expect(await agent.getByTestId('conversation-title').textContent()).toBe('Dana');
    expect(await agent.getByTestId('reply').isDisabled()).toBe(true);
    await agent.getByTestId('accept').click();
    await agent.locator('[data-testid="reply"]:enabled').waitFor();
    await row.getByTestId('row-status').filter({ hasText: 'active' }).waitFor();
    expect(await agent.getByTestId('accept').isHidden()).toBe(true);

    // Typing, both ways.
    await citizen.getByTestId('message-input').pressSequentially('I am');
    await agent.getByTestId('typing').filter({ hasText: 'citizen is typing…' }).waitFor();
    await citizen.getByTestId('message-input').fill('');
    await waitFor('the citizen typing indicator to clear', async () => (await agent.getByTestId('typing').textContent()) === '', 5000);
    await agent.getByTestId('reply').fill(REPLY);
    await citizen.getByTestId('typing').filter({ hasText: 'Call-taker is typing…' }).waitFor();

    // The reply (Enter sends) reaches the citizen; their page reading it marks it delivered on the console.
    await agent.getByTestId('reply').press('Enter');
    const reply = citizen.getByTestId('message').filter({ hasText: REPLY });
    await reply.waitFor();
    expect(await reply.getAttribute('data-direction')).toBe('outbound');
    expect(await reply.getByTestId('message-author').textContent()).toBe('alice, call-taker');
    const sentReply = agent.getByTestId('message').filter({ hasText: REPLY });
    await sentReply.getByTestId('delivery-status').filter({ hasText: 'delivered' }).waitFor();
    expect(await sentReply.count()).toBe(1);
    expect(await agent.getByTestId('reply').inputValue()).toBe('');
    await waitFor('the call-taker typing indicator to clear', async () => (await citizen.getByTestId('typing').textContent()) === '', 5000);

    // A hostile body is shown as literal text on both pages and runs nothing.
    await citizen.getByTestId('message-input').fill(XSS);
    await citizen.getByTestId('send').click();
    for (const [page, log] of [[citizen, 'chat-log'], [agent, 'message-log']] as const) {
      const body = page.getByTestId(log).getByTestId('message-body').filter({ hasText: 'onerror' });
      await body.waitFor();
      expect(await body.textContent()).toBe(XSS);
      expect(await page.getByTestId(log).locator('img').count()).toBe(0);
      expect(await page.locator('img[src="x"]').count()).toBe(0);
    }
    await citizen.getByTestId('message').filter({ hasText: 'onerror' }).getByTestId('send-status').filter({ hasText: /^sent$/ }).waitFor();

    // A reload of the chat resumes the same session with its history, and goes on in the same conversation.
    await citizen.reload();
    const restored = await waitFor('the history after reload', async () => {
      const texts = await bodies(citizen, 'chat-log');
      return texts.length === 4 && texts;
    });
    // The acknowledgement the citizen got when the agent accepted is part of the history.
    expect(restored).toEqual([FIRE, ACK, REPLY, XSS]);
    expect(await citizen.getByTestId('message').evaluateAll((items) => items.map((i) => i.getAttribute('data-direction')))).toEqual([
      'inbound',
      'system',
      'outbound',
      'inbound',
    ]);
    expect(await citizen.getByTestId('start').isHidden()).toBe(true);
    expect(await citizen.getByTestId('chat-log').locator('img').count()).toBe(0);
    await citizen.locator('body[data-connection="connected"]').waitFor();
    await citizen.getByTestId('message-input').fill(AGAIN);
    await citizen.getByTestId('message-input').press('Enter');
    await agent.getByTestId('message-log').getByTestId('message-body').filter({ hasText: AGAIN }).waitFor();
    expect(await agent.getByTestId('conversation-row').count()).toBe(1);
    expect(await bodies(agent, 'message-log')).toEqual([FIRE, ACK, REPLY, XSS, AGAIN]);

    // Resolving removes the row and tells the citizen.
    await agent.getByTestId('resolution').selectOption('handled');
    await agent.getByTestId('resolve').click();
    await agent.getByTestId('conversation-row').first().waitFor({ state: 'detached' });
    await citizen.locator('[data-testid="message"][data-direction="system"]').filter({ hasText: 'closed' }).waitFor();

    expect(incidents).toEqual([]);
  });
});
