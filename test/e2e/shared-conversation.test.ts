/**
 * Shared conversations and the supervisor's view in a real headless Chromium
 * against a real gateway (PostgreSQL, Redis, workers): two agents and a
 * supervisor in one conversation see who is in it and each other's typing;
 * an escalation raises an alert (and a browser notification) on the
 * supervisor's page; a transfer moves the conversation with its history to
 * another agent, whose console shows the transfer note, which the citizen
 * never sees.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConversationView } from '../../src/realtime/events.ts';
import { launchBrowser, signIn as signInAs } from '../support/browser.ts';
import { api, createAgents, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { waitFor } from '../support/wait.ts';

const HELP = 'Two men are fighting outside, one has a knife';
const REPLY = 'Police are on the way. Are you somewhere safe?';
const NOTE = 'Caller whispering: treat as hostile scene, no callback';
const AFTER = 'This is bob, I am with you now';

/** Records the page's browser notifications instead of showing them (headless has no notification centre). */
const NOTIFICATION_SPY = `
  window.__notifications = [];
  window.Notification = class {
    static permission = 'granted';
    static requestPermission() { return Promise.resolve('granted'); }
    constructor(title, options) { window.__notifications.push({ title, body: options && options.body }); }
  };
`;

function watch(page: Page, name: string, incidents: string[]): void {
  page.on('dialog', (dialog) => {
    incidents.push(`${name}: dialog "${dialog.message()}"`);
    void dialog.dismiss();
  });
  page.on('pageerror', (err) => incidents.push(`${name}: page error ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') incidents.push(`${name}: console error ${msg.text()}`);
  });
}

describe('shared conversations and the supervisor in a browser', () => {
  let gw: TestGateway;
  let browser: Browser;
  let sam: { id: string; token: string };
  let bobId: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    [gw, browser] = await Promise.all([startTestGateway(), launchBrowser()]);
    const [agents] = await Promise.all([
      createAgents(gw, [{ username: 'alice' }, { username: 'bob' }, { username: 'sam', role: 'supervisor' }]),
      ...['console', 'chat'].map(async (name) => expect((await fetch(`${gw.url}/assets/${name}.js`)).status).toBe(200)),
    ]);
    sam = agents[2]!;
    bobId = agents[1]!.id;
  });
  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await gw?.destroy();
  });

  async function newPage(name: string, incidents: string[], options: Parameters<Browser['newContext']>[0] = {}): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, ...options });
    context.setDefaultTimeout(25_000);
    contexts.push(context);
    const page = await context.newPage();
    watch(page, name, incidents);
    return page;
  }

  const signIn = (page: Page, username: string) => signInAs(page, gw.url, username);

  async function setPresence(page: Page, presence: string): Promise<void> {
    await page.getByTestId('presence').selectOption(presence);
    await page.locator(`[data-testid="presence"][data-confirmed="${presence}"]`).waitFor();
  }

  /** What people wrote in a log (system messages, such as the acknowledgement, left out). */
  const logBodies = (page: Page, log: string) =>
    page.getByTestId(log).locator('[data-testid="message"]:not([data-direction="system"])').getByTestId('message-body').allTextContents();

  it('shares one conversation between two agents and a supervisor, alerts on escalation, and transfers with history', async () => {
    const incidents: string[] = [];
    const [alice, bob, supervisor, citizen] = await Promise.all([
      newPage('alice', incidents),
      newPage('bob', incidents),
      newPage('sam', incidents),
      newPage('citizen', incidents, { viewport: { width: 400, height: 800 } }),
    ]);
    await supervisor.addInitScript(NOTIFICATION_SPY);
    await Promise.all([signIn(alice, 'alice'), signIn(bob, 'bob'), signIn(supervisor, 'sam')]);
    await setPresence(alice, 'available');

    // The supervisor's panel shows the floor live: alice available.
    const panel = supervisor.getByTestId('supervisor-panel');
    await panel.waitFor();
    await panel.locator('[data-testid="agent-row"][data-presence="available"]').filter({ hasText: 'alice' }).waitFor();
    expect(await alice.getByTestId('supervisor-panel').isHidden()).toBe(true);

    // A citizen writes; alice accepts and replies.
    await citizen.goto(`${gw.url}/chat`);
    await citizen.locator('body[data-connection="connected"]').waitFor();
    await citizen.getByTestId('name').fill('Robin');
    await citizen.getByTestId('message-input').fill(HELP);
    await citizen.getByTestId('send').click();
    const aliceRow = alice.getByTestId('conversation-row').filter({ hasText: 'Robin' });
    await aliceRow.click();
    await alice.getByTestId('accept').click();
    await alice.locator('[data-testid="reply"]:enabled').waitFor();
    await alice.getByTestId('reply').fill(REPLY);
    await alice.getByTestId('reply').press('Enter');
    await citizen.getByTestId('message').filter({ hasText: REPLY }).waitFor();
    // The log carries the system updates.
    await alice.locator('[data-testid="log-event"][data-event-type="conversation.accepted"]').filter({ hasText: 'alice accepted' }).waitFor();

    // The supervisor sees it live, on the panel and in the list; an escalation raises an alert and a notification.
    const samRow = supervisor.getByTestId('conversation-row').filter({ hasText: 'Robin' });
    await samRow.waitFor();
    await panel.getByTestId('agent-row').filter({ hasText: 'alice' }).getByTestId('agent-conversations').filter({ hasText: /^1$/ }).waitFor();
    const conversationId = (await samRow.getAttribute('data-conversation-id')) ?? '';
    const view = await api<{ conversation: ConversationView }>(gw, 'GET', `/api/conversations/${conversationId}`, { token: sam.token });
    gw.notifier.toAgents({ supervisors: true }, 'conversation:escalated', {
      conversation: view.body.conversation,
      reason: 'unanswered past the 50 s answer target',
      at: new Date().toISOString(),
    });
    const alert = supervisor.getByRole('alert').getByTestId('escalation-alert').filter({ hasText: 'Robin' });
    await alert.waitFor();
    expect(await alert.getByTestId('alert-text').textContent()).toContain('unanswered past the 50 s answer target');
    const notified = await waitFor('the escalation notification', () =>
      supervisor.evaluate(() => (window as unknown as { __notifications: Array<{ title: string; body: string }> }).__notifications.find((n) => n.title === 'Lifeline: escalation')),
    );
    expect(notified.body).toContain('Robin');
    expect(await alice.getByTestId('escalation-alerts').isHidden()).toBe(true);

    // Alice invites bob; bob is told, opens it (joining) and sees the whole history. Sam opens it and joins.
    await alice.getByTestId('invite-agent').selectOption({ label: 'bob (offline)' });
    await alice.getByTestId('invite').click();
    await bob.getByTestId('status-line').filter({ hasText: 'alice invited you' }).waitFor();
    await bob.getByTestId('conversation-row').filter({ hasText: 'Robin' }).click();
    await bob.getByTestId('message-log').getByTestId('message-body').filter({ hasText: REPLY }).waitFor();
    expect(await logBodies(bob, 'message-log')).toEqual([HELP, REPLY]);
    await bob.locator('[data-testid="log-event"][data-event-type="participant.joined"]').filter({ hasText: 'bob joined' }).waitFor();
    await samRow.click();
    await supervisor.getByTestId('join').click();
    await supervisor.getByTestId('join').waitFor({ state: 'hidden' });
    for (const page of [alice, bob, supervisor]) {
      for (const who of ['alice', 'bob', 'sam']) {
        await page.locator('[data-testid="participant"][data-connected="true"]').filter({ hasText: who }).waitFor();
      }
    }
    await alice.locator('[data-testid="log-event"][data-event-type="participant.joined"]').filter({ hasText: 'sam joined' }).waitFor();

    // Everyone sees everyone else typing, by name.
    await alice.getByTestId('reply').pressSequentially('Stay');
    await bob.getByTestId('typing').filter({ hasText: 'alice' }).waitFor();
    await supervisor.getByTestId('typing').filter({ hasText: 'alice' }).waitFor();
    await bob.getByTestId('reply').pressSequentially('Can you');
    await alice.getByTestId('typing').filter({ hasText: 'bob' }).waitFor();
    await supervisor.getByTestId('typing').filter({ hasText: 'bob' }).waitFor();
    await supervisor.getByTestId('note-text').pressSequentially('Watching');
    await alice.getByTestId('typing').filter({ hasText: 'sam' }).waitFor();
    await bob.getByTestId('typing').filter({ hasText: 'sam' }).waitFor();
    await alice.getByTestId('reply').fill('');
    await bob.getByTestId('reply').fill('');
    await supervisor.getByTestId('note-text').fill('');

    // Bob leaves; then alice transfers the conversation to him with a note.
    await bob.getByTestId('leave').click();
    await alice.locator('[data-testid="log-event"][data-event-type="participant.left"]').filter({ hasText: 'bob left' }).waitFor();
    await bob.getByTestId('conversation-row').waitFor({ state: 'detached' });
    await setPresence(bob, 'available');
    await alice.getByTestId('transfer-target').selectOption(`agent:${bobId}`);
    await alice.getByTestId('transfer-note').fill(NOTE);
    await alice.getByTestId('transfer').click();
    await alice.getByTestId('conversation-row').waitFor({ state: 'detached' });

    // Bob gets it offered, with its history, the transfer note and the log entry; he accepts and writes.
    const bobRow = bob.getByTestId('conversation-row').filter({ hasText: 'Robin' });
    await bob.locator('[data-testid="conversation-row"][data-status="offered"]').filter({ hasText: 'Robin' }).waitFor();
    await bobRow.click();
    await bob.getByTestId('accept').click();
    await bob.locator('[data-testid="reply"]:enabled').waitFor();
    const note = bob.locator('[data-testid="message"][data-direction="note"]').filter({ hasText: NOTE });
    await note.waitFor();
    expect(await note.getByTestId('message-author').textContent()).toBe('alice (internal note)');
    expect(await logBodies(bob, 'message-log')).toEqual([HELP, REPLY, NOTE]);
    await bob.locator('[data-testid="log-event"][data-event-type="conversation.transferred"]').filter({ hasText: 'alice transferred the conversation to bob' }).waitFor();
    await bob.getByTestId('reply').fill(AFTER);
    await bob.getByTestId('reply').press('Enter');

    // The citizen gets bob's reply and never the note.
    await citizen.getByTestId('message').filter({ hasText: AFTER }).waitFor();
    const seen = await logBodies(citizen, 'chat-log');
    expect(seen).toEqual([HELP, REPLY, AFTER]);
    expect(seen.join('\n')).not.toContain(NOTE);
    // The supervisor (still a participant) saw the note live.
    await supervisor.locator('[data-testid="message"][data-direction="note"]').filter({ hasText: NOTE }).waitFor();

    expect(incidents).toEqual([]);
  });

  it('raises the alert on the supervisor page when a real conversation misses its answer target', async () => {
    const incidents: string[] = [];
    const supervisor = await newPage('sam, second page', incidents);
    const citizen = await newPage('second citizen', incidents, { viewport: { width: 400, height: 800 } });
    await supervisor.addInitScript(NOTIFICATION_SPY);
    await signIn(supervisor, 'sam');
    // The default queue's answer target, shortened: the escalation timer is the real one.
    await gw.store.sql`update queues set answer_target_seconds = 1 where is_default`;
    try {
      await citizen.goto(`${gw.url}/chat`);
      await citizen.locator('body[data-connection="connected"]').waitFor();
      await citizen.getByTestId('name').fill('Jordan');
      await citizen.getByTestId('message-input').fill('My neighbour is not answering the door and smoke is coming out');
      await citizen.getByTestId('send').click();
      const alert = supervisor.getByRole('alert').getByTestId('escalation-alert').filter({ hasText: 'Jordan' });
      await alert.waitFor();
      const notified = await waitFor('the escalation notification', () =>
        supervisor.evaluate(() =>
          (window as unknown as { __notifications: Array<{ title: string; body: string }> }).__notifications.find((n) => n.body.includes('Jordan')),
        ),
      );
      expect(notified.title).toBe('Lifeline: escalation');
      const [row] = await gw.store.sql<Array<{ escalated_at: Date | null }>>`
        select c.escalated_at from conversations c join contacts k on k.id = c.contact_id where k.name = 'Jordan'`;
      expect(row?.escalated_at).not.toBeNull();
      expect(incidents).toEqual([]);
    } finally {
      await gw.store.sql`update queues set answer_target_seconds = 50 where is_default`;
    }
  });
});
