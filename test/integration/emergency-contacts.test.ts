/**
 * Emergency contacts against a real gateway and a real SMTP peer (the sink):
 * administrators manage them per queue or per agent; when an agent flags an
 * emergency, every contact of the conversation's queue and of the agent is
 * e-mailed once from the queue's template; a confidential conversation's
 * e-mail carries no content; without SMTP the e-mails are skipped and the
 * audit trail says so.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConversationView } from '../../src/realtime/events.ts';
import {
  ADMIN_PASSWORD,
  api,
  connectAgent,
  connectCitizen,
  createAgents,
  login,
  request,
  startTestGateway,
  type AgentSocket,
  type CitizenSocket,
  type TestGateway,
} from '../support/gateway.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { nextEvent, waitFor } from '../support/wait.ts';

type Contact = { id: string; queueId: string | null; agentId: string | null; name: string; email: string };
type ErrorBody = { error: { code: string; field?: string } };

const TEMPLATE = 'EMERGENCY flagged by {{agent}} with {{contact}}.\n---\n{{summary}}\n---\nOpen: {{link}}';

/** A citizen on web chat writes; `agent` (the only available one) accepts. */
async function conversationWith(gw: TestGateway, socket: AgentSocket, name: string, texts: string[]): Promise<{ citizen: CitizenSocket; conversationId: string }> {
  const citizen = await connectCitizen(gw);
  await request(citizen, 'session:start', { name });
  const offered = nextEvent<ConversationView>(socket, 'conversation:offered');
  const first = await request<{ conversationId: string }>(citizen, 'message:send', { clientId: randomUUID(), text: texts[0] });
  expect((await offered).id).toBe(first.conversationId);
  for (const text of texts.slice(1)) await request(citizen, 'message:send', { clientId: randomUUID(), text });
  await waitFor('every message routed', async () => {
    const [row] = await gw.store.sql`select count(*)::int as n from outbox where conversation_id = ${first.conversationId} and kind = 'route' and processed_at is null`;
    return row!.n === 0;
  });
  await request(socket, 'conversation:accept', { conversationId: first.conversationId });
  return { citizen, conversationId: first.conversationId };
}

const summaryEvent = (gw: TestGateway, conversationId: string, type: string) =>
  waitFor(`${type} recorded`, async () => {
    const [row] = await gw.store.sql`select data from events where conversation_id = ${conversationId} and type = ${type}`;
    return row?.data as Record<string, unknown> | undefined;
  });

describe('emergency contacts', () => {
  let gw: TestGateway;
  let sink: SmtpSink;
  let admin: string;
  beforeAll(async () => {
    sink = await startSmtpSink();
    gw = await startTestGateway({ ALERT_SMTP_URL: `smtp://${sink.host}:${sink.port}`, ALERT_FROM: 'alerts@psap.test' });
    admin = await login(gw, 'admin', ADMIN_PASSWORD);
  });
  afterAll(async () => {
    await gw?.destroy();
    await sink?.stop();
  });

  it('e-mails each contact of the queue and of the flagging agent once, from the queue template; confidential ones without content', async () => {
    const [alice, bob] = await createAgents(gw, [{ username: 'alice', capacity: 5 }, { username: 'bob' }]);
    const [defaultQueue] = await gw.store.sql`select id from queues where is_default`;
    const other = await api<{ queue: { id: string } }>(gw, 'POST', '/api/queues', { token: admin, body: { name: 'Other' } });
    expect(await api(gw, 'PATCH', `/api/queues/${defaultQueue!.id}`, { token: admin, body: { emergencyContactTemplate: TEMPLATE } })).toMatchObject({ status: 200 });

    // Administration: exactly one of queueId and agentId, a valid e-mail, an existing owner; admins only.
    const add = (body: Record<string, unknown>, token = admin) => api<{ emergencyContact: Contact } & ErrorBody>(gw, 'POST', '/api/emergency-contacts', { token, body });
    expect(await add({ name: 'X', email: 'x@psap.test' })).toMatchObject({ status: 400, body: { error: { field: 'queueId' } } });
    expect(await add({ queueId: defaultQueue!.id, agentId: alice!.id, name: 'X', email: 'x@psap.test' })).toMatchObject({ status: 400, body: { error: { field: 'agentId' } } });
    expect(await add({ queueId: defaultQueue!.id, name: 'X', email: 'not-an-address' })).toMatchObject({ status: 400, body: { error: { field: 'email' } } });
    expect(await add({ queueId: defaultQueue!.id, name: '', email: 'x@psap.test' })).toMatchObject({ status: 400, body: { error: { field: 'name' } } });
    expect(await add({ queueId: randomUUID(), name: 'X', email: 'x@psap.test' })).toMatchObject({ status: 404, body: { error: { field: 'queueId' } } });
    expect(await add({ agentId: randomUUID(), name: 'X', email: 'x@psap.test' })).toMatchObject({ status: 404, body: { error: { field: 'agentId' } } });
    expect(await add({ queueId: defaultQueue!.id, name: 'X', email: 'x@psap.test' }, alice!.token)).toMatchObject({ status: 403 });

    const created: Record<string, Contact> = {};
    for (const [key, body] of Object.entries({
      chief: { queueId: defaultQueue!.id, name: 'Fire chief', email: 'chief@fire.test' },
      police: { queueId: defaultQueue!.id, name: 'Police desk', email: 'desk@police.test' },
      gone: { queueId: defaultQueue!.id, name: 'Removed', email: 'removed@psap.test' },
      mentor: { agentId: alice!.id, name: "Alice's mentor", email: 'mentor@psap.test' },
      // The same address as a queue contact: e-mailed once.
      chiefAgain: { agentId: alice!.id, name: 'Chief (again)', email: 'CHIEF@fire.test' },
      bobs: { agentId: bob!.id, name: "Bob's contact", email: 'bobs@psap.test' },
      otherQueue: { queueId: other.body.queue.id, name: 'Other queue', email: 'other@psap.test' },
    })) {
      const res = await add(body);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      created[key] = res.body.emergencyContact;
    }
    const listed = await api<{ emergencyContacts: Contact[] }>(gw, 'GET', `/api/emergency-contacts?agentId=${alice!.id}`, { token: admin });
    expect(listed.body.emergencyContacts.map((c) => c.name)).toEqual(["Alice's mentor", 'Chief (again)']);
    expect(await api(gw, 'GET', '/api/emergency-contacts', { token: alice!.token })).toMatchObject({ status: 403 });
    expect(await api(gw, 'DELETE', `/api/emergency-contacts/${created.gone!.id}`, { token: admin })).toMatchObject({ status: 204 });
    expect(await api(gw, 'DELETE', `/api/emergency-contacts/${created.gone!.id}`, { token: admin })).toMatchObject({ status: 404 });
    const all = await api<{ emergencyContacts: Contact[] }>(gw, 'GET', '/api/emergency-contacts', { token: admin });
    expect(all.body.emergencyContacts.map((c) => c.email).sort()).toEqual(['CHIEF@fire.test', 'bobs@psap.test', 'chief@fire.test', 'desk@police.test', 'mentor@psap.test', 'other@psap.test']);

    // Alice flags an emergency: the queue's contacts and hers, each once, from the template.
    const socket = await connectAgent(gw, alice!.token);
    await request(socket, 'presence:set', { presence: 'available' });
    const { citizen, conversationId } = await conversationWith(gw, socket, 'Dana', ['He has a gun', 'He is in the kitchen now']);
    const flagged = await api<{ conversation: ConversationView }>(gw, 'POST', `/api/conversations/${conversationId}/emergency`, { token: alice!.token });
    expect(flagged).toMatchObject({ status: 200, body: { conversation: { emergency: true } } });
    expect(await summaryEvent(gw, conversationId, 'emergency_contacts.emailed')).toEqual({ count: 3, agentId: alice!.id });
    const link = `${gw.url}/console#conversation=${conversationId}`;
    const mails = sink.received.filter((m) => (m.parsed.text ?? '').includes(link));
    expect(mails.map((m) => m.rcptTo.join(',').toLowerCase()).sort()).toEqual(['chief@fire.test', 'desk@police.test', 'mentor@psap.test']);
    for (const mail of mails) {
      const text = mail.parsed.text ?? '';
      expect(text).toMatch(/^EMERGENCY flagged by alice with Dana\.\n---\nThe citizen's last 2 messages:\n\d\d:\d\d:\d\d UTC {2}He has a gun\n\d\d:\d\d:\d\d UTC {2}He is in the kitchen now\n---\nOpen: /);
      expect(text.trim().endsWith(`Open: ${link}`)).toBe(true);
      expect(mail.parsed.subject).toBe('Emergency flagged in a webchat conversation');
      expect(mail.mailFrom).toBe('alerts@psap.test');
    }
    const perContact = await gw.store.sql`select data from events where conversation_id = ${conversationId} and type = 'emergency_contact.emailed'`;
    expect(perContact.map((e) => (e.data as { contactId: string }).contactId).sort()).toEqual([created.chief!.id, created.mentor!.id, created.police!.id].sort());
    // Flagging again changes nothing and e-mails nobody.
    expect(await api(gw, 'POST', `/api/conversations/${conversationId}/emergency`, { token: alice!.token })).toMatchObject({ status: 200 });

    // A confidential conversation: the e-mail says so and carries none of its content, nor who the citizen is.
    const secret = await conversationWith(gw, socket, 'Erin', ['My husband is hitting me']);
    expect(await api(gw, 'POST', `/api/conversations/${secret.conversationId}/confidential`, { token: alice!.token, body: { confidential: true } })).toMatchObject({
      status: 200,
    });
    await api(gw, 'POST', `/api/conversations/${secret.conversationId}/emergency`, { token: alice!.token });
    expect(await summaryEvent(gw, secret.conversationId, 'emergency_contacts.emailed')).toMatchObject({ count: 3 });
    const secretMails = sink.received.filter((m) => (m.parsed.text ?? '').includes(`#conversation=${secret.conversationId}`));
    expect(secretMails).toHaveLength(3);
    for (const mail of secretMails) {
      const text = mail.parsed.text ?? '';
      expect(text).toContain('This conversation is confidential: its content is not sent by e-mail.');
      expect(text).toContain('with a citizen (confidential conversation).');
      expect(text).not.toMatch(/hitting|husband|Erin/);
    }
    // Still three mails for the first conversation: the second flag sent none.
    expect(sink.received.filter((m) => (m.parsed.text ?? '').includes(link))).toHaveLength(3);
    expect(sink.received.some((m) => m.rcptTo.some((r) => /bobs@|other@|removed@/.test(r)))).toBe(false);
    for (const s of [socket, citizen, secret.citizen]) s.disconnect();
  });
});

describe('emergency contacts without SMTP', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => {
    await gw?.destroy();
  });

  it('skips the e-mails and records that it did', async () => {
    const admin = await login(gw, 'admin', ADMIN_PASSWORD);
    const [carol] = await createAgents(gw, [{ username: 'carol' }]);
    const [queue] = await gw.store.sql`select id from queues where is_default`;
    expect(await api(gw, 'POST', '/api/emergency-contacts', { token: admin, body: { queueId: queue!.id, name: 'Chief', email: 'chief@fire.test' } })).toMatchObject({
      status: 201,
    });
    const socket = await connectAgent(gw, carol!.token);
    await request(socket, 'presence:set', { presence: 'available' });
    const { citizen, conversationId } = await conversationWith(gw, socket, 'Finn', ['Smoke in the stairwell']);
    await api(gw, 'POST', `/api/conversations/${conversationId}/emergency`, { token: carol!.token });
    expect(await summaryEvent(gw, conversationId, 'emergency_contacts.skipped')).toEqual({
      reason: 'no SMTP configured (ALERT_SMTP_URL)',
      contacts: 1,
      agentId: carol!.id,
    });
    const [emailed] = await gw.store.sql`select count(*)::int as n from events where conversation_id = ${conversationId} and type like 'emergency_contact%.emailed'`;
    expect(emailed!.n).toBe(0);
    for (const s of [socket, citizen]) s.disconnect();
  });
});
