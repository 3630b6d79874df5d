/**
 * Bounce-back: a text that cannot be taken (nobody signed in, outside
 * opening hours) is answered at once on the citizen's channel, once per
 * cause; the conversation is still stored and queued.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CitizenMessageView, ConversationView } from '../../src/realtime/events.ts';
import { connectAgent, connectCitizen, createAgents, request, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { setDefaultQueue } from '../support/timers.ts';
import { nextEvent, waitFor } from '../support/wait.ts';

describe('bounce-back', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => {
    await gw?.destroy();
  });

  const routed = (conversationId: string) =>
    waitFor('every message of the conversation routed', async () => {
      const [row] = await gw.store.sql`select count(*)::int as n from outbox where conversation_id = ${conversationId} and kind = 'route' and processed_at is null`;
      return row!.n === 0;
    });

  it('answers within a second when no agent is signed in, once, and keeps the conversation queued', async () => {
    await setDefaultQueue(gw, { bounce_back_text: 'No text service now. Call 911.' });
    // An agent exists but is offline: nobody is signed in.
    await createAgents(gw, [{ username: 'offline-agent' }]);
    const citizen = await connectCitizen(gw);
    await request(citizen, 'session:start', {});
    const bounced = nextEvent<CitizenMessageView>(citizen, 'message:new', (m) => m.direction === 'system', 5000);
    const started = performance.now();
    const { conversationId } = await request<{ conversationId: string }>(citizen, 'message:send', { clientId: randomUUID(), text: 'help, someone is in my house' });
    const notice = await bounced;
    const latencyMs = performance.now() - started;
    console.info(`bounce-back latency: ${latencyMs.toFixed(1)} ms`);
    expect(notice.body).toBe('No text service now. Call 911.');
    expect(latencyMs).toBeLessThan(1000);

    // Four more texts: no second bounce-back for the same cause.
    for (let i = 0; i < 4; i++) await request(citizen, 'message:send', { clientId: randomUUID(), text: `still here ${i}` });
    await routed(conversationId);
    const system = await gw.store.sql`select body from messages where conversation_id = ${conversationId} and direction = 'system'`;
    expect(system.map((m) => m.body)).toEqual(['No text service now. Call 911.']);
    const [conversation] = await gw.store.sql`select status from conversations where id = ${conversationId}`;
    expect(conversation!.status).toBe('queued');
    const events = await gw.store.sql`select data from events where conversation_id = ${conversationId} and type = 'bounce_back.sent'`;
    expect(events.map((e) => (e.data as { cause: string }).cause)).toEqual(['no_agent']);
    citizen.disconnect();
  });

  it('does not bounce when an agent is signed in, and bounces outside opening hours', async () => {
    const [agent] = await createAgents(gw, [{ username: 'signed-in', capacity: 3 }]);
    const socket = await connectAgent(gw, agent!.token);
    await request(socket, 'presence:set', { presence: 'busy' });
    const citizen = await connectCitizen(gw);
    await request(citizen, 'session:start', {});
    const { conversationId } = await request<{ conversationId: string }>(citizen, 'message:send', { clientId: randomUUID(), text: 'are you there?' });
    await routed(conversationId);
    const [none] = await gw.store.sql`select count(*)::int as n from messages where conversation_id = ${conversationId} and direction = 'system'`;
    expect(none!.n).toBe(0);

    // Closed every day of the week: the next text is bounced for that cause.
    await setDefaultQueue(gw, { opening_hours: { timeZone: 'UTC', days: {} } });
    const bounced = nextEvent<CitizenMessageView>(citizen, 'message:new', (m) => m.direction === 'system', 5000);
    await request(citizen, 'message:send', { clientId: randomUUID(), text: 'hello?' });
    expect((await bounced).body).toBe('No text service now. Call 911.');
    // The audit event is written just after the text, which may reach the citizen first.
    const event = await waitFor('the bounce_back.sent event', async () => {
      const [row] = await gw.store.sql`select data from events where conversation_id = ${conversationId} and type = 'bounce_back.sent'`;
      return row;
    });
    expect((event.data as { cause: string }).cause).toBe('closed');
    await setDefaultQueue(gw, { opening_hours: null });

    // Supervisors and agents still get it: an agent becoming available is offered it.
    const offered = nextEvent<ConversationView>(socket, 'conversation:offered', (c) => c.id === conversationId);
    await request(socket, 'presence:set', { presence: 'available' });
    expect((await offered).id).toBe(conversationId);
    socket.disconnect();
    citizen.disconnect();
  });
});
