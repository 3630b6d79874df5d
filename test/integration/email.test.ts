/**
 * E-mail end to end: a real gateway reads a real Dovecot mailbox through a
 * link created by the API, the agent sees text and photo, replies reach an
 * SMTP sink with threading headers, backfill after an outage reads each mail
 * exactly once, and bounces/auto-replies are stored but never answered.
 */
import { randomBytes, randomUUID } from 'node:crypto';
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

/** A mail with a text part and one binary attachment of `size` bytes. */
function mailWithFile(o: { from: string; subject: string; text: string; fileName: string; size: number }): string {
  return [
    `From: ${o.from}`,
    'To: psap@test.local',
    `Subject: ${o.subject}`,
    `Message-ID: <${randomUUID()}@citizen.test>`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="f1"',
    '',
    '--f1',
    'Content-Type: text/plain; charset=utf-8',
    '',
    o.text,
    '--f1',
    `Content-Type: application/octet-stream; name="${o.fileName}"`,
    `Content-Disposition: attachment; filename="${o.fileName}"`,
    'Content-Transfer-Encoding: base64',
    '',
    (randomBytes(o.size).toString('base64').match(/.{1,76}/g) ?? []).join('\r\n'),
    '--f1--',
    '',
  ].join('\r\n');
}

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
  let agentToken: string;
  let linkId: string;

  const statusOf = async (id: string) =>
    (await api<{ link: { runner: { status: LinkStatus } | null } }>(gw, 'GET', `/api/links/${id}`, { token: admin })).body.link.runner?.status;
  const messagesOf = async (conversationId: string) =>
    (await request<{ messages: MessageView[] }>(agent, 'conversation:open', { conversationId })).messages;
  const storedFrom = async (from: string) =>
    gw.store.sql<Array<{ id: string; conversation_id: string; body: string; automatic: string | null; error: string | null }>>`
      select m.id, m.conversation_id, m.body, e.automatic, e.error from messages m join conversations c on c.id = m.conversation_id
      join contacts k on k.id = c.contact_id join email_inbound e on e.message_id = m.id
      where m.direction = 'inbound' and m.channel_link_id = ${linkId} and k.address = ${from} order by m.id`;
  const waitStored = (from: string, n: number, timeout = 20_000) =>
    waitFor(`${n} mail(s) from ${from} stored`, async () => {
      const rows = await storedFrom(from);
      return rows.length >= n ? rows : undefined;
    }, timeout);
  const settings = (extra: Record<string, unknown> = {}) => ({
    imap: { host: dovecot.host, port: dovecot.port, tls: false, user: dovecot.user, ...((extra.imap as object) ?? {}) },
    smtp: { host: sink.host, port: sink.port, tls: false, from: 'text911@psap.test', fromName: 'County 911' },
    ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== 'imap')),
  });
  /** Changes the link's settings and waits until the restarted mailbox has read the folder. */
  const reconfigure = async (extra: Record<string, unknown>) => {
    const res = await api(gw, 'PATCH', `/api/links/${linkId}`, { token: admin, body: { settings: settings(extra) } });
    expect(res.status).toBe(200);
    const at = Date.now();
    await waitFor('the mailbox restarted with the new settings', async () => {
      const s = await statusOf(linkId);
      const lastSync = s?.detail?.lastSync;
      return s?.state === 'up' && typeof lastSync === 'string' && Date.parse(lastSync) >= at;
    }, 20_000);
  };

  beforeAll(async () => {
    dovecot = await startDovecot();
    sink = await startSmtpSink();
    gw = await startTestGateway(
      { LINK_LEASE_MS: '900', OUTBOUND_ATTEMPTS: '6', OUTBOUND_BACKOFF_MS: '50' },
      { adapters: [createWebchatAdapter(), createEmailAdapter({ reconnectMinMs: 50, reconnectMaxMs: 300 })] },
    );
    admin = await login(gw, 'admin', ADMIN_PASSWORD);
    const [sam] = await createAgents(gw, [{ username: 'sam', capacity: 50 }]);
    agentToken = sam!.token;
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
        settings: settings(),
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
    // The photo itself, as the console loads it (test/e2e/console-attachments.test.ts shows it rendering in Chromium).
    const photo = await fetch(`${gw.url}${messages[0]!.attachments[0]!.url!}`, { headers: { authorization: `Bearer ${agentToken}` } });
    expect(photo.status).toBe(200);
    expect(photo.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await photo.arrayBuffer()).equals(PNG)).toBe(true);

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

  it('reads, exactly once each, five mails delivered while the IMAP server was down', async () => {
    const from = 'dave@citizen.test';
    await dovecot.stopServer();
    // Dovecot's imap process keeps an IDLE connection for about ten seconds after its master stops.
    await waitFor('the mailbox down', async () => {
      const s = await statusOf(linkId);
      return s?.state !== 'up' && s?.lastError ? s : undefined;
    }, 45_000);
    // Mail keeps arriving at the mail host (local delivery into the maildir) while IMAP is away.
    for (let i = 1; i <= 5; i++) await dovecot.deliverToMaildir(mail({ from, subject: `During the outage ${i}`, text: `outage mail ${i}` }));
    await dovecot.start();
    const rows = await waitStored(from, 5, 30_000);
    expect(rows.map((r) => /outage mail (\d)/.exec(r.body)?.[1])).toEqual(['1', '2', '3', '4', '5']);
    // A later mail read after them proves the backfill is over: still five, none twice.
    await dovecot.appendMail(mail({ from: 'dave.marker@citizen.test', subject: 'marker', text: 'after the outage' }));
    await waitStored('dave.marker@citizen.test', 1);
    expect((await storedFrom(from)).length).toBe(5);
    const status = await statusOf(linkId);
    expect(status?.state).toBe('up');
    expect(status?.counters.reconnects).toBeGreaterThan(0);
  });

  it('threads an answer to our reply into its conversation, reopening it after it was resolved', async () => {
    const from = 'erin@citizen.test';
    await dovecot.appendMail(mail({ from, subject: 'Stalker outside', text: 'Someone has followed me home.' }));
    const [first] = await waitStored(from, 1);
    const conversationId = first!.conversation_id;
    await waitFor('the conversation accepted', () =>
      request(agent, 'conversation:accept', { conversationId }).then(() => true, () => false),
    );
    await request<MessageView>(agent, 'message:send', { conversationId, text: 'Are the doors locked?', clientId: randomUUID() });
    const reply = await sink.waitForMail((m) => m.parsed.text?.includes('doors locked') === true, 15_000);
    await request(agent, 'conversation:resolve', { conversationId, resolution: 'handled' });
    // The citizen answers our mail later, from another address of theirs.
    const answerId = `<${randomUUID()}@citizen.test>`;
    await dovecot.appendMail(mail({ from: 'erin.work@citizen.test', subject: 'Re: Stalker outside', text: 'He is back.', id: answerId, inReplyTo: reply.parsed.messageId! }));
    const answer = await waitFor('the answer stored', async () => {
      const [row] = await gw.store.sql<Array<{ conversation_id: string }>>`
        select conversation_id from messages where channel_link_id = ${linkId} and channel_message_id = ${answerId}`;
      return row;
    }, 20_000);
    expect(answer.conversation_id).toBe(conversationId);
    const [conversation] = await gw.store.sql<Array<{ status: string }>>`select status from conversations where id = ${conversationId}`;
    expect(['queued', 'offered', 'active']).toContain(conversation!.status);
    const events = await gw.store.sql<Array<{ type: string }>>`select type from events where conversation_id = ${conversationId} order by id`;
    expect(events.map((e) => e.type)).toContain('conversation.reopened');
    expect(await gw.store.sql`select 1 from conversations c join contacts k on k.id = c.contact_id where k.address = 'erin.work@citizen.test'`).toHaveLength(0);
  });

  it('keeps reading past a malformed mail, an attachment over the limit and a mail over the size limit', async () => {
    await reconfigure({ maxAttachmentBytes: 20_000, maxMessageBytes: 100_000, perSenderPerHour: 3 });
    const before = (await statusOf(linkId))!.counters;
    const from = 'frank@citizen.test';
    await dovecot.appendMail(mailWithFile({ from, subject: 'video', text: 'A file too big to keep.', fileName: 'clip.bin', size: 50_000 }));
    await dovecot.appendMail(mailWithFile({ from: 'frank.big@citizen.test', subject: 'huge', text: 'The text of a huge mail.', fileName: 'huge.bin', size: 150_000 }));
    await dovecot.appendMail([
      'From: frank.broken@citizen.test', 'Subject: broken', `Message-ID: <${randomUUID()}@citizen.test>`, 'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="never-there"', '', 'Help, my mail program is broken.', '',
    ].join('\r\n'));
    await dovecot.appendMail(mail({ from: 'frank.after@citizen.test', subject: 'after', text: 'Still reading?' }));

    const [kept] = await waitStored(from, 1);
    expect(kept!.body).toContain('A file too big to keep.');
    expect(kept!.body).toMatch(/\[attachment clip\.bin \(49 kB\) not kept: over the limit of 20 kB\]/);
    const [big] = await waitStored('frank.big@citizen.test', 1);
    expect(big!.body).toContain('The text of a huge mail.');
    expect(big!.body).toMatch(/over this mailbox's limit of 98 kB: only its text was read; left in the mailbox: huge\.bin/);
    expect(big!.error).toMatch(/over this mailbox's limit/);
    const [broken] = await waitStored('frank.broken@citizen.test', 1);
    expect(broken!.body).toContain('Help, my mail program is broken.');
    expect(broken!.body).toMatch(/\[malformed MIME: .*boundary "never-there" never appears/);
    expect(broken!.error).toMatch(/malformed MIME/);
    await waitStored('frank.after@citizen.test', 1);
    await waitFor('the oversized and unreadable mails counted', async () => {
      const after = (await statusOf(linkId))!.counters;
      return (after.oversized ?? 0) - (before.oversized ?? 0) === 1 && (after.unreadable ?? 0) - (before.unreadable ?? 0) >= 1;
    });
  });

  it('marks a sender over the hourly limit: stored, answered by the agent, but no automatic notice', async () => {
    const from = 'gina@citizen.test';
    for (let i = 1; i <= 4; i++) await dovecot.appendMail(mail({ from, subject: `flood ${i}`, text: `flood mail ${i}` }));
    const rows = await waitStored(from, 4);
    expect(rows.map((r) => r.automatic)).toEqual([null, null, null, 'rate-limited']);
    expect(rows[3]!.body).toContain('more than 3 mails from this sender within an hour');
    const conversationId = rows[3]!.conversation_id;
    await waitFor('the conversation accepted', () =>
      request(agent, 'conversation:accept', { conversationId }).then(() => true, () => false),
    );
    await request<MessageView>(agent, 'message:send', { conversationId, text: 'We read you, Gina.', clientId: randomUUID() });
    await sink.waitForMail((m) => m.parsed.text?.includes('We read you, Gina.') === true, 15_000);
    await request(agent, 'conversation:resolve', { conversationId, resolution: 'handled' });
    const notice = await waitFor('the closing notice refused', async () => {
      const [m] = await gw.store.sql<Array<{ delivery_status: string; delivery_error: string | null }>>`
        select delivery_status, delivery_error from messages where conversation_id = ${conversationId} and direction = 'system' order by id desc limit 1`;
      return m && m.delivery_status === 'failed' ? m : undefined;
    }, 15_000);
    expect(notice.delivery_error).toMatch(/no automatic notice to a sender over the hourly mail limit/);
    expect(sink.received.filter((m) => m.rcptTo[0] === from && m.parsed.text?.includes('has been closed'))).toEqual([]);
  });

  it('re-reads the folder after a UIDVALIDITY change and stores only what is new', async () => {
    const imap = await dovecot.connect();
    const uidValidityOf = async (client: typeof imap) => {
      const st = await client.status('INBOX', { uidValidity: true });
      return st ? st.uidValidity : undefined;
    };
    const countStored = async () =>
      (await gw.store.sql<Array<{ n: number }>>`select count(*)::int as n from messages where channel_link_id = ${linkId} and direction = 'inbound'`)[0]!.n;
    const before = await uidValidityOf(imap);
    expect(before).toBeDefined();
    await imap.logout();
    const storedBefore = await countStored();
    const duplicatesBefore = (await statusOf(linkId))!.counters.duplicates ?? 0;
    await dovecot.stopServer();
    await dovecot.forgetUids();
    await dovecot.deliverToMaildir(mail({ from: 'hank@citizen.test', subject: 'new', text: 'after the folder was rebuilt' }));
    await dovecot.start();
    await waitStored('hank@citizen.test', 1, 30_000);
    const check = await dovecot.connect();
    expect(await uidValidityOf(check)).not.toBe(before);
    await check.logout();
    expect(await countStored()).toBe(storedBefore + 1);
    // Every earlier mail was read again and recognised (the status is published every few hundred ms).
    await waitFor('the re-read mails counted as duplicates', async () =>
      ((await statusOf(linkId))?.counters.duplicates ?? 0) - duplicatesBefore >= storedBefore - 1,
    );
  });

  it('records a mail the store keeps refusing as unreadable, naming its UID, and reads on', async () => {
    // A real failure inside PostgreSQL for one mail only: a trigger refusing its body.
    await gw.store.sql.unsafe(`
      create or replace function test_poison() returns trigger language plpgsql as $$
      begin if new.body like '%POISON%' then raise exception 'poisoned mail refused by the store'; end if; return new; end $$;
      create trigger test_poison before insert on messages for each row execute function test_poison();`);
    try {
      const uid = await dovecot.appendMail(mail({ from: 'ivan@citizen.test', subject: 'x', text: 'POISON pill' }));
      const [note] = await waitStored('ivan@citizen.test', 1, 30_000);
      expect(note!.body).toMatch(new RegExp(`could not be stored after 3 attempts: .*poisoned mail refused by the store.*UID ${uid} in INBOX`));
      await dovecot.appendMail(mail({ from: 'ivan.next@citizen.test', subject: 'y', text: 'next mail' }));
      await waitStored('ivan.next@citizen.test', 1);
    } finally {
      await gw.store.sql.unsafe('drop trigger if exists test_poison on messages; drop function if exists test_poison();');
    }
  });

  it('moves stored mail to the processed folder when one is set', async () => {
    const imap = await dovecot.connect();
    await imap.mailboxCreate('Processed').catch(() => undefined);
    await imap.logout();
    await reconfigure({ imap: { processedFolder: 'Processed' } });
    const id = `<${randomUUID()}@citizen.test>`;
    await dovecot.appendMail(mail({ from: 'jane@citizen.test', subject: 'move me', text: 'moved after storing', id }));
    await waitStored('jane@citizen.test', 1);
    const check = await dovecot.connect();
    try {
      const search = async (folder: string) => {
        const lock = await check.getMailboxLock(folder);
        try {
          return (await check.search({ header: { 'message-id': id } }, { uid: true })) || [];
        } finally {
          lock.release();
        }
      };
      await waitFor('the mail moved', async () => (await search('Processed')).length === 1 && (await search('INBOX')).length === 0, 10_000);
    } finally {
      await check.logout();
    }
  });

  it('reports mailbox health in the admin API and /metrics', async () => {
    // Counters run from the link's last (re)start: the processed-folder change restarted it, and one mail came in since.
    const status = await waitFor('the status published', async () => {
      const s = await statusOf(linkId);
      return s && s.state === 'up' && (s.counters.messagesIn ?? 0) >= 1 ? s : undefined;
    });
    expect(status.lastError).toBeNull();
    expect(status.counters).toMatchObject({ messagesOut: expect.any(Number), reconnects: expect.any(Number), duplicates: expect.any(Number) });
    expect(Date.parse(String(status.detail?.lastSync))).toBeGreaterThan(Date.now() - 120_000);
    const metrics = await fetch(`${gw.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/lifeline_link_up\{link="psap mailbox",channel="email"\} 1/);
    expect(metrics).toMatch(/lifeline_link_counter\{link="psap mailbox",counter="messagesIn"\} \d+/);
    expect(metrics).toMatch(/lifeline_link_last_sync_timestamp_seconds\{link="psap mailbox"\} \d{10}/);
    expect(metrics).toMatch(/lifeline_link_error\{link="psap mailbox"\} 0/);
  });
});
