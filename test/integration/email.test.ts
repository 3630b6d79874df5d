/**
 * E-mail end to end: a real gateway reads a real Dovecot mailbox through a
 * link created by the API, the agent sees text and photo, replies reach an
 * SMTP sink with threading headers, backfill after an outage reads each mail
 * exactly once, and bounces/auto-replies are stored but never answered.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmailAdapter } from '../../adapters/email/index.ts';
import { createWebchatAdapter } from '../../adapters/webchat/index.ts';
import type { LinkStatus } from '../../src/channel.ts';
import type { ConversationView, MessageView } from '../../src/realtime/events.ts';
import { startDovecot, type Dovecot } from '../support/dovecot.ts';
import { ADMIN_PASSWORD, api, connectAgent, createAgents, login, request, startTestGateway, type AgentSocket, type TestGateway } from '../support/gateway.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { nextEvent, waitFor } from '../support/wait.ts';

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

function mail(o: { from: string; subject: string; text: string; id?: string; inReplyTo?: string; headers?: string[]; png?: boolean }): string {
  const id = o.id ?? `<${randomUUID()}@citizen.test>`;
  const head = [
    `From: Citizen <${o.from}>`,
    'To: 911 <psap@test.local>',
    `Subject: ${o.subject}`,
    `Message-ID: ${id}`,
    `Date: ${new Date().toUTCString()}`,
    ...(o.inReplyTo ? [`In-Reply-To: ${o.inReplyTo}`, `References: ${o.inReplyTo}`] : []),
    ...(o.headers ?? []),
    'MIME-Version: 1.0',
  ];
  if (!o.png) return [...head, 'Content-Type: text/plain; charset=utf-8', '', o.text, ''].join('\r\n');
  return [
    ...head,
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain; charset=utf-8',
    '',
    o.text,
    '--b1',
    'Content-Type: image/png; name="photo.png"',
    'Content-Disposition: attachment; filename="photo.png"',
    'Content-Transfer-Encoding: base64',
    '',
    PNG.toString('base64'),
    '--b1--',
    '',
  ].join('\r\n');
}

describe('e-mail over IMAP and SMTP', () => {
  let dovecot: Dovecot;
  let sink: SmtpSink;
  let gw: TestGateway;
  let admin: string;
  let agent: AgentSocket;
  let linkId: string;

  const statusOf = async (id: string) =>
    (await api<{ link: { runner: { status: LinkStatus } | null } }>(gw, 'GET', `/api/links/${id}`, { token: admin })).body.link.runner?.status;
  const messagesOf = async (conversationId: string) =>
    (await request<{ messages: MessageView[] }>(agent, 'conversation:open', { conversationId })).messages;
  const storedFrom = async (from: string) =>
    gw.store.sql<Array<{ conversation_id: string; body: string; n: number }>>`
      select m.conversation_id, m.body from messages m join conversations c on c.id = m.conversation_id
      join contacts k on k.id = c.contact_id where m.direction = 'inbound' and m.channel_link_id = ${linkId} and k.address = ${from} order by m.id`;

  beforeAll(async () => {
    dovecot = await startDovecot();
    sink = await startSmtpSink();
    gw = await startTestGateway(
      { LINK_LEASE_MS: '900', OUTBOUND_ATTEMPTS: '6', OUTBOUND_BACKOFF_MS: '50' },
      { adapters: [createWebchatAdapter(), createEmailAdapter({ reconnectMinMs: 50, reconnectMaxMs: 300 })] },
    );
    admin = await login(gw, 'admin', ADMIN_PASSWORD);
    const [sam] = await createAgents(gw, [{ username: 'sam', capacity: 50 }]);
    agent = await connectAgent(gw, sam!.token);
    await request(agent, 'presence:set', { presence: 'available' });
  }, 60_000);

  afterAll(async () => {
    agent?.disconnect();
    await gw?.destroy();
    await sink?.stop();
    await dovecot?.stop();
  });

  it('reads the mailbox of a link created through the API', async () => {
    const res = await api<{ link: { id: string } }>(gw, 'POST', '/api/links', {
      token: admin,
      body: {
        channel: 'email',
        name: 'psap mailbox',
        settings: {
          imap: { host: dovecot.host, port: dovecot.port, tls: false, user: dovecot.user },
          smtp: { host: sink.host, port: sink.port, tls: false, from: 'text911@psap.test', fromName: 'County 911' },
        },
        secrets: { imapPassword: dovecot.password },
      },
    });
    expect(res.status).toBe(201);
    linkId = res.body.link.id;
    const status = await waitFor('the mailbox up', async () => ((await statusOf(linkId))?.state === 'up' ? statusOf(linkId) : undefined), 15_000);
    expect(status?.lastError).toBeNull();
  });

  it('shows text and photo to the agent, threads the reply and the citizen answer', async () => {
    const from = 'alice@citizen.test';
    const offered = nextEvent<ConversationView>(agent, 'conversation:offered', () => true, 20_000);
    const firstId = `<${randomUUID()}@citizen.test>`;
    await dovecot.appendMail(mail({ from, subject: 'Fire next door', text: 'There is smoke in the flat next to mine.', id: firstId, png: true }));
    const [row] = await waitFor('the mail stored', async () => ((await storedFrom(from)).length === 1 ? storedFrom(from) : undefined), 20_000);
    const conversation = { id: row!.conversation_id };
    expect((await offered).id).toBe(conversation.id);
    await request(agent, 'conversation:accept', { conversationId: conversation.id });
    const messages = await waitFor('the mail in the console', async () => {
      const m = (await messagesOf(conversation.id)).filter((x) => x.direction === 'inbound');
      return m.length >= 1 ? m : undefined;
    });
    expect(messages[0]!.body).toContain('There is smoke in the flat next to mine.');
    expect(messages[0]!.attachments).toEqual([expect.objectContaining({ name: 'photo.png', contentType: 'image/png', size: PNG.length })]);

    const text = 'Leave the building now. Firefighters are on their way.';
    await request<MessageView>(agent, 'message:send', { conversationId: conversation.id, text, clientId: randomUUID() });
    const reply = await sink.waitForMail((m) => m.parsed.text?.includes('Firefighters') === true, 15_000);
    expect(reply.rcptTo).toEqual([from]);
    expect(reply.parsed.messageId).toMatch(/@psap\.test>$/);
    expect(reply.parsed.inReplyTo).toBe(firstId);
    expect(reply.parsed.references === firstId || (Array.isArray(reply.parsed.references) && reply.parsed.references.includes(firstId))).toBe(true);
    expect(reply.parsed.subject).toBe('Re: Fire next door');

    await dovecot.appendMail(mail({ from, subject: 'Re: Fire next door', text: 'We are outside now.', inReplyTo: reply.parsed.messageId! }));
    await waitFor('the answer in the same conversation', async () => {
      const rows = await storedFrom(from);
      return rows.length === 2 && rows.every((r) => r.conversation_id === conversation.id);
    }, 15_000);
  });

  it('backfills the five mails that arrived while the link was stopped, each exactly once', async () => {
    expect((await api(gw, 'POST', `/api/links/${linkId}/stop`, { token: admin })).status).toBeLessThan(300);
    await waitFor('the link stopped', async () => {
      const s = await statusOf(linkId);
      return s === undefined || s.state === 'stopped';
    }, 15_000);
    // And the server itself goes away and comes back.
    await dovecot.restart();
    const from = 'bob@citizen.test';
    for (let i = 1; i <= 5; i++) await dovecot.appendMail(mail({ from, subject: `Outage ${i}`, text: `mail number ${i}` }));
    expect((await api(gw, 'POST', `/api/links/${linkId}/start`, { token: admin })).status).toBeLessThan(300);
    const rows = await waitFor('five mails stored', async () => {
      const r = await storedFrom(from);
      return r.length >= 5 ? r : undefined;
    }, 20_000);
    await waitFor('the link up', async () => (await statusOf(linkId))?.state === 'up', 15_000);
    expect((await storedFrom(from)).length).toBe(5);
    expect(rows.map((r) => /mail number (\d)/.exec(r.body)?.[1])).toEqual(['1', '2', '3', '4', '5']);
  });

  it('reconnects after Dovecot restarts and reads what arrives next', async () => {
    await dovecot.restart();
    const from = 'carol@citizen.test';
    await dovecot.appendMail(mail({ from, subject: 'after restart', text: 'still there?' }));
    await waitFor('the mail after the restart', async () => (await storedFrom(from)).length === 1, 20_000);
  });

  it('stores a bounce and an auto-reply but sends no mail for them', async () => {
    const before = sink.received.length;
    const bounceFrom = 'mailer-daemon@citizen.test';
    const autoFrom = 'away@citizen.test';
    await dovecot.appendMail(mail({ from: bounceFrom, subject: 'Undelivered Mail Returned to Sender', text: 'delivery failed' }));
    await dovecot.appendMail(mail({ from: autoFrom, subject: 'Out of office', text: 'I am away', headers: ['Auto-Submitted: auto-replied'] }));
    const [bounce] = await waitFor('the bounce stored', async () => ((await storedFrom(bounceFrom)).length === 1 ? storedFrom(bounceFrom) : undefined), 15_000);
    const [auto] = await waitFor('the auto-reply stored', async () => ((await storedFrom(autoFrom)).length === 1 ? storedFrom(autoFrom) : undefined), 15_000);
    // An agent answering either is refused: the outbound message fails without reaching the sink.
    for (const row of [bounce!, auto!]) {
      await waitFor('the conversation offered and accepted', () =>
        request(agent, 'conversation:accept', { conversationId: row.conversation_id }).then(() => true, () => false),
      );
      const sent = await request<MessageView>(agent, 'message:send', { conversationId: row.conversation_id, text: 'Hello?', clientId: randomUUID() });
      await waitFor('the reply failed', async () => (await messagesOf(row.conversation_id)).find((m) => m.id === sent.id)?.deliveryStatus === 'failed', 15_000);
    }
    expect(sink.received.slice(before).filter((m) => [bounceFrom, autoFrom].includes(m.rcptTo[0] ?? ''))).toEqual([]);
  });
});
