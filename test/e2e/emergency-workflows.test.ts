/**
 * The emergency workflows in a real Chromium against a real gateway and SMPP
 * peer: an agent texts a number from 911 with a chat invitation; the link
 * joins the same conversation in the browser; after the citizen presses
 * "Share my location" (geolocation granted, fixed position) the agent's
 * console shows it with a map link. In the reply box, the canned-reply picker
 * fills the text (editable) and the SMS counter shows GSM-7/UCS-2 and parts.
 */
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConversationView, MessageView } from '../../src/realtime/events.ts';
import { launchBrowser } from '../support/browser.ts';
import { ADMIN_PASSWORD, api, createAgents, login, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { FakeSmsc } from '../support/smsc.ts';
import { waitFor } from '../support/wait.ts';

describe('emergency workflows in a browser', () => {
  let gw: TestGateway;
  let browser: Browser;
  let smsc: FakeSmsc;
  let alice: { id: string; token: string };
  let linkId: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    [gw, browser, smsc] = await Promise.all([startTestGateway(), launchBrowser(), FakeSmsc.start({ systemId: 'psap', password: 'secret' })]);
    [alice] = (await createAgents(gw, [{ username: 'alice', capacity: 5 }])) as unknown as [typeof alice];
    const admin = await login(gw, 'admin', ADMIN_PASSWORD);
    const link = await api<{ link: { id: string } }>(gw, 'POST', '/api/links', {
      token: admin,
      body: {
        channel: 'sms',
        name: 'carrier',
        settings: { mode: 'client', host: '127.0.0.1', port: smsc.port, systemId: 'psap', sourceAddr: '911', reconnectMinMs: 50, reconnectMaxMs: 300 },
        secrets: { password: 'secret' },
      },
    });
    linkId = link.body.link.id;
    await api(gw, 'POST', '/api/canned-replies', { token: admin, body: { language: 'en', title: 'Safe?', body: 'Are you safe right now?' } });
    for (const name of ['console', 'chat']) expect((await fetch(`${gw.url}/assets/${name}.js`)).status).toBe(200);
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await gw?.destroy();
    await smsc?.stop();
  });

  it('invites a texted citizen into the same conversation; their shared location reaches the console with a map link', async () => {
    const incidents: string[] = [];
    const started = await api<{ conversation: ConversationView; message: MessageView }>(gw, 'POST', '/api/conversations/outbound', {
      token: alice.token,
      body: { linkId, address: '+1 202 555 0111', text: 'This is 911. Open this link so we can see where you are:', invite: true },
    });
    expect(started.status).toBe(201);
    const conversationId = started.body.conversation.id;
    const link = /(http:\/\/\S+\/chat\?invite=\S+)/.exec(started.body.message.body)?.[1];
    expect(link).toBeDefined();
    // The text with its link went to the number.
    await waitFor('the invitation at the SMSC', async () => {
      const [m] = await gw.store.sql<Array<{ delivery_status: string; delivery_error: string | null }>>`select delivery_status, delivery_error from messages where id = ${started.body.message.id}`;
      if (m!.delivery_status === 'failed') throw new Error(`delivery failed: ${m!.delivery_error}`);
      return smsc.submits.some((s) => s.status === 0 && s.destinationAddr === '12025550111' && s.text.includes(link!));
    }, 15_000);

    const agentContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const citizenContext = await browser.newContext({
      geolocation: { latitude: 38.8977, longitude: -77.0365, accuracy: 12 },
      permissions: ['geolocation'],
    });
    contexts.push(agentContext, citizenContext);
    for (const c of contexts) c.setDefaultTimeout(20_000);
    const agent = await agentContext.newPage();
    const citizen = await citizenContext.newPage();
    for (const [page, name] of [[agent, 'console'], [citizen, 'chat']] as const) {
      page.on('pageerror', (err) => incidents.push(`${name}: ${err.message}`));
      page.on('console', (msg) => msg.type() === 'error' && incidents.push(`${name}: ${msg.text()}`));
    }

    await agent.goto(`${gw.url}/console`);
    await agent.getByTestId('login-username').fill('alice');
    await agent.getByTestId('login-password').fill('alice-password-123');
    await agent.getByTestId('login-submit').click();
    await agent.locator(`[data-conversation-id="${conversationId}"]`).click();
    await agent.getByTestId('location-current-text').filter({ hasText: 'No location yet.' }).waitFor();

    // The citizen opens the link: the same conversation, nothing shared until they press the button.
    await citizen.goto(link!);
    await citizen.getByTestId('status-line').filter({ hasText: 'connected to the 911 call-taker' }).waitFor();
    expect(new URL(citizen.url()).search).toBe('');
    await citizen.getByTestId('chat-log').getByTestId('message-body').filter({ hasText: 'This is 911' }).waitFor();
    await citizen.getByTestId('message-input').fill('I am hiding in the closet');
    await citizen.getByTestId('send').click();
    await agent.getByTestId('message-log').getByTestId('message-body').filter({ hasText: 'hiding in the closet' }).waitFor();
    const [stored] = await gw.store.sql<Array<{ conversation_id: string }>>`select conversation_id from messages where body = 'I am hiding in the closet'`;
    expect(stored!.conversation_id).toBe(conversationId);
    expect(await gw.store.sql`select 1 from locations where conversation_id = ${conversationId}`).toHaveLength(0);

    await citizen.getByTestId('share-location').click();
    await citizen.getByTestId('status-line').filter({ hasText: 'location was sent' }).waitFor();
    const map = agent.getByTestId('location-map-link');
    await map.waitFor();
    expect(await map.getAttribute('href')).toBe('https://www.openstreetmap.org/?mlat=38.897700&mlon=-77.036500#map=17/38.897700/-77.036500');
    expect(await agent.getByTestId('location-current-text').textContent()).toContain("caller's browser");
    // The one-time link does not open a second session.
    const again = await (await browser.newContext()).newPage();
    await again.goto(link!);
    await again.getByTestId('status-line').filter({ hasText: 'already used' }).waitFor();
    await again.context().close();

    // The reply box: canned reply fills the text (then edited), the counter follows.
    const counter = agent.getByTestId('sms-counter');
    await agent.getByTestId('canned-picker').selectOption({ label: '[en] Safe?' });
    expect(await agent.getByTestId('reply').inputValue()).toBe('Are you safe right now?');
    expect(await counter.getAttribute('data-encoding')).toBe('GSM-7');
    expect(await counter.textContent()).toBe('SMS: GSM-7 · 1 part · 137 left');
    await agent.getByTestId('reply').fill('Are you safe right now? Ответьте');
    await counter.filter({ hasText: 'UCS-2' }).waitFor();
    expect(await counter.getAttribute('data-parts')).toBe('1');
    await agent.getByTestId('reply').fill('x'.repeat(161));
    await counter.filter({ hasText: 'GSM-7 · 2 parts' }).waitFor();
    // Sending empties the box, and the counter follows it.
    await agent.getByTestId('reply').fill('We are on our way.');
    await agent.getByTestId('send').click();
    await counter.filter({ hasText: 'SMS: GSM-7 · 0 parts' }).or(counter.filter({ hasText: '160 left' })).waitFor();
    expect(await agent.getByTestId('reply').inputValue()).toBe('');
    expect(incidents).toEqual([]);
  });
});
