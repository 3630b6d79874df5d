import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CitizenMessageView, ConversationView, MessageView } from '../../src/realtime/events.ts';
import { api, connectAgent, connectCitizen, createAgents, request, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { nextEvent, waitFor } from '../support/wait.ts';

describe('web chat to agent console, end to end', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => {
    await gw?.destroy();
  });

  it('offers a citizen message to an available agent, who accepts and replies', async () => {
    const [alice] = await createAgents(gw, [{ username: 'alice', capacity: 3 }]);
    const agent = await connectAgent(gw, alice!.token);
    await request(agent, 'presence:set', { presence: 'available' });

    const citizen = await connectCitizen(gw);
    const { token } = await request<{ token: string }>(citizen, 'session:start', { name: 'Dana' });
    expect(token.length).toBeGreaterThan(20);

    const offered = nextEvent<ConversationView>(agent, 'conversation:offered');
    const sent = await request<{ id: number; conversationId: string }>(citizen, 'message:send', { clientId: randomUUID(), text: 'there is a fire in my building' });
    const offer = await offered;
    expect(offer.id).toBe(sent.conversationId);
    expect(offer.priority).toBeGreaterThanOrEqual(90);
    expect(offer.contact.display).toBe('Dana');

    const opened = await request<{ messages: MessageView[] }>(agent, 'conversation:open', { conversationId: offer.id });
    expect(opened.messages.map((m) => m.body)).toEqual(['there is a fire in my building']);

    const accepted = await request<ConversationView>(agent, 'conversation:accept', { conversationId: offer.id });
    expect(accepted.status).toBe('active');

    const reply = nextEvent<CitizenMessageView>(citizen, 'message:new', (m) => m.direction === 'outbound');
    const agentStatus = nextEvent<{ id: number; status: string }>(agent, 'message:status', (s) => s.status === 'delivered');
    const clientId = randomUUID();
    const stored = await request<MessageView>(agent, 'message:send', { conversationId: offer.id, text: 'Help is on the way. Are you safe?', clientId });
    const seen = await reply;
    expect(seen.body).toBe('Help is on the way. Are you safe?');
    expect(seen.authorName).toBe('alice');
    citizen.emit('message:read', { id: seen.id });
    expect((await agentStatus).id).toBe(stored.id);

    // The same client id again is stored once.
    const again = await request<MessageView>(agent, 'message:send', { conversationId: offer.id, text: 'Help is on the way. Are you safe?', clientId });
    expect(again.id).toBe(stored.id);

    // A reload resumes the session and fetches the history.
    citizen.disconnect();
    const resumed = await connectCitizen(gw, token);
    const history = await request<CitizenMessageView[]>(resumed, 'messages:since', { afterId: 0 });
    expect(history.map((m) => [m.direction, m.body])).toEqual([
      ['inbound', 'there is a fire in my building'],
      ['system', 'A 911 call-taker has seen your message and is with you now.'],
      ['outbound', 'Help is on the way. Are you safe?'],
    ]);

    const resolved = await request<ConversationView>(agent, 'conversation:resolve', { conversationId: offer.id, resolution: 'handled' });
    expect(resolved.status).toBe('resolved');
    const closing = await waitFor('closing notice', async () => {
      const all = await request<CitizenMessageView[]>(resumed, 'messages:since', { afterId: 0 });
      return all.find((m) => m.direction === 'system' && /closed/.test(m.body));
    });
    expect(closing.body).toMatch(/closed/);
    const me = await api<{ agent: { load: number } }>(gw, 'GET', '/api/auth/me', { token: alice!.token });
    expect(me.body.agent.load).toBe(0);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toContain('lifeline_messages_stored_total{channel="webchat"} 1');
    expect(metrics).toContain('lifeline_messages_received_total{channel="webchat"} 1');
    resumed.disconnect();
    agent.disconnect();
  });
});
