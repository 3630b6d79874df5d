/**
 * Answer target and escalation: a conversation not accepted in time is
 * escalated: supervisors alerted on their sockets and by e-mail, offered to
 * every available agent (first accept wins), raised, and the citizen told.
 * The accepting agent's acknowledgement reaches the citizen.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CitizenMessageView, ConversationView } from '../../src/realtime/events.ts';
import { api, connectAgent, connectCitizen, createAgents, request, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { setDefaultQueue } from '../support/timers.ts';
import { nextEvent, waitFor } from '../support/wait.ts';

describe('escalation', () => {
  let gw: TestGateway;
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink();
    gw = await startTestGateway({ ALERT_SMTP_URL: `smtp://${sink.host}:${sink.port}`, ALERT_FROM: 'alerts@psap.test' });
  });
  afterAll(async () => {
    await gw?.destroy();
    await sink?.stop();
  });

  it('escalates an unanswered conversation, alerts supervisors, offers it to all, and the first accept wins', async () => {
    await setDefaultQueue(gw, { answer_target_seconds: 1, offer_timeout_seconds: 60 });
    const [slow, quick, boss] = await createAgents(gw, [
      { username: 'slow', capacity: 3 },
      { username: 'quick', capacity: 1 },
      { username: 'boss', role: 'supervisor' },
    ]);
    await gw.store.sql`update agents set email = 'boss@psap.test' where id = ${boss!.id}`;
    const supervisor = await connectAgent(gw, boss!.token);
    const slowSocket = await connectAgent(gw, slow!.token);
    const quickSocket = await connectAgent(gw, quick!.token);
    await request(quickSocket, 'presence:set', { presence: 'available' });
    // Quick is full with another citizen's conversation: only the broadcast reaches them.
    const other = await connectCitizen(gw);
    await request(other, 'session:start', {});
    await request(other, 'message:send', { clientId: randomUUID(), text: 'first in line' });
    await waitFor('quick to hold an offer', async () => {
      const [row] = await gw.store.sql`select load from agents where id = ${quick!.id}`;
      return row!.load === 1;
    });
    await request(slowSocket, 'presence:set', { presence: 'available' });

    const citizen = await connectCitizen(gw);
    await request(citizen, 'session:start', {});
    const escalationText = nextEvent<CitizenMessageView>(citizen, 'message:new', (m) => m.direction === 'system' && /call 911/.test(m.body));
    const { conversationId } = await request<{ conversationId: string }>(citizen, 'message:send', { clientId: randomUUID(), text: 'I cannot speak' });
    const alerted = nextEvent<{ conversation: ConversationView; reason: string; at: string }>(supervisor, 'conversation:escalated', (p) => p.conversation.id === conversationId);
    const broadcast = nextEvent<ConversationView>(quickSocket, 'conversation:offered', (c) => c.id === conversationId && c.escalatedAt !== null);
    const [before] = await gw.store.sql`select priority, agent_id from conversations where id = ${conversationId}`;

    const alert = await alerted;
    expect(alert.reason).toBe('answer target missed');
    expect(alert.conversation.escalatedAt).not.toBeNull();
    expect(alert.conversation.priority).toBeGreaterThanOrEqual(before!.priority + 1000);
    expect((await escalationText).body).toBe('We are still connecting you to a call-taker. If you can, call 911.');
    const offer = await broadcast;
    expect(offer.agentId).toBe(slow!.id);

    const mail = await sink.waitForMail((m) => m.rcptTo.includes('boss@psap.test') && (m.parsed.text ?? '').includes(conversationId));
    expect(mail.parsed.subject).toMatch(/Escalation/);
    expect(mail.parsed.text).toContain(`${gw.url}/console#conversation=${conversationId}`);

    // Quick accepts it from the broadcast although it is offered to slow and quick is at capacity.
    const ack = nextEvent<CitizenMessageView>(citizen, 'message:new', (m) => m.direction === 'system' && /has seen your message/.test(m.body));
    const taken = await request<ConversationView>(quickSocket, 'conversation:accept', { conversationId });
    expect(taken).toMatchObject({ status: 'active', agentId: quick!.id });
    expect((await ack).body).toBe('A 911 call-taker has seen your message and is with you now.');
    await expect(request(slowSocket, 'conversation:accept', { conversationId })).rejects.toThrow(/not_offered|not assigned/);
    const loads = await gw.store.sql`select username, load from agents where id in (${slow!.id}, ${quick!.id}) order by username`;
    expect(loads.map((r) => [r.username, r.load])).toEqual([
      ['quick', 2],
      ['slow', 0],
    ]);
    const trail = await gw.store.sql`select type from events where conversation_id = ${conversationId} order by id`;
    const types = trail.map((e) => e.type as string);
    expect(types.filter((t) => t === 'conversation.escalated')).toHaveLength(1);
    expect(types).toContain('escalation_text.sent');
    expect(types).toContain('alert.emailed');
    expect(types.indexOf('acknowledgement.sent')).toBeGreaterThan(types.indexOf('conversation.accepted'));
    const texts = await gw.store.sql`select body from messages where conversation_id = ${conversationId} and direction = 'system' order by id`;
    expect(texts.filter((m) => /call 911/.test(m.body as string))).toHaveLength(1);

    // Accepting again (a retried request) sends no second acknowledgement.
    await request(quickSocket, 'conversation:accept', { conversationId });
    const acks = await gw.store.sql`select count(*)::int as n from messages where conversation_id = ${conversationId} and body like 'A 911 call-taker%'`;
    expect(acks[0]!.n).toBe(1);
    for (const s of [supervisor, slowSocket, quickSocket, citizen, other]) s.disconnect();
    const me = await api<{ agent: { presence: string } }>(gw, 'GET', '/api/auth/me', { token: quick!.token });
    expect(me.status).toBe(200);
  });
  it("lists conversations offered to all in every agent's console (not confidential ones), so a reload still shows them", async () => {
    const [keen, reader] = await createAgents(gw, [{ username: 'keen', capacity: 10 }, { username: 'reader' }]);
    const keenSocket = await connectAgent(gw, keen!.token);
    await request(keenSocket, 'presence:set', { presence: 'available' });
    const write = async (text: string) => {
      const citizen = await connectCitizen(gw);
      await request(citizen, 'session:start', {});
      const { conversationId } = await request<{ conversationId: string }>(citizen, 'message:send', { clientId: randomUUID(), text });
      return { citizen, conversationId };
    };
    const escalated = (conversationId: string) =>
      waitFor(`conversation ${conversationId} escalated`, async () => {
        const [row] = await gw.store.sql`select escalated_at from conversations where id = ${conversationId}`;
        return row?.escalated_at !== null && row?.escalated_at !== undefined;
      });
    await setDefaultQueue(gw, { answer_target_seconds: 1, offer_timeout_seconds: 60 });
    const open = await write('Please help, I am hiding');
    const secret = await write('Do not tell anyone');
    await gw.store.sql`update conversations set confidential = true where id = ${secret.conversationId}`;
    await escalated(open.conversationId);
    await escalated(secret.conversationId);
    await setDefaultQueue(gw, { answer_target_seconds: 600 });
    const calm = await write('A question about a parking ticket');
    await waitFor('the calm conversation offered', async () => {
      const [row] = await gw.store.sql`select status from conversations where id = ${calm.conversationId}`;
      return row?.status === 'offered';
    });

    // Reader holds none of them and is not available: the escalated, non-confidential one is in the list anyway.
    const socket = await connectAgent(gw, reader!.token);
    const listed = (await request<ConversationView[]>(socket, 'conversation:list', {})).map((c) => c.id);
    expect(listed).toContain(open.conversationId);
    expect(listed).not.toContain(secret.conversationId);
    expect(listed).not.toContain(calm.conversationId);
    const http = await api<{ conversations: ConversationView[] }>(gw, 'GET', '/api/conversations', { token: reader!.token });
    expect(http.body.conversations.find((c) => c.id === open.conversationId)).toMatchObject({ status: 'offered', escalatedAt: expect.any(String) });
    expect(http.body.conversations.map((c) => c.id)).not.toContain(calm.conversationId);
    // Once someone accepts it, it is no longer everyone's.
    await request(keenSocket, 'conversation:accept', { conversationId: open.conversationId });
    expect((await request<ConversationView[]>(socket, 'conversation:list', {})).map((c) => c.id)).not.toContain(open.conversationId);
    for (const s of [keenSocket, socket, open.citizen, secret.citizen, calm.citizen]) s.disconnect();
  });
});
