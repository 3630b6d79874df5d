/**
 * Presence: an agent coming online is offered waiting work at once; an agent
 * whose console is gone is set offline and their unaccepted offers go to
 * someone else.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConversationView } from '../../src/realtime/events.ts';
import { api, connectAgent, connectCitizen, createAgents, request, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { nextEvent } from '../support/wait.ts';

describe('presence', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ AGENT_DISCONNECT_GRACE_MS: '300' });
  });
  afterAll(async () => {
    await gw?.destroy();
  });

  it('offers waiting work when an agent comes online, and moves it on when their console disappears', async () => {
    const [first, second] = await createAgents(gw, [{ username: 'first' }, { username: 'second' }]);
    const citizen = await connectCitizen(gw);
    await request(citizen, 'session:start', {});
    const { conversationId } = await request<{ conversationId: string }>(citizen, 'message:send', { clientId: randomUUID(), text: 'nobody is online yet' });

    const a = await connectAgent(gw, first!.token);
    const offeredToA = nextEvent<ConversationView>(a, 'conversation:offered', (c) => c.id === conversationId);
    await request(a, 'presence:set', { presence: 'available' });
    expect((await offeredToA).agentId).toBe(first!.id);

    const b = await connectAgent(gw, second!.token);
    await request(b, 'presence:set', { presence: 'available' });
    const offeredToB = nextEvent<ConversationView>(b, 'conversation:offered', (c) => c.id === conversationId, 10_000);
    a.disconnect();
    expect((await offeredToB).agentId).toBe(second!.id);

    const me = await api<{ agent: { presence: string; load: number } }>(gw, 'GET', '/api/auth/me', { token: first!.token });
    expect(me.body.agent).toMatchObject({ presence: 'offline', load: 0 });
    // Only the conversation's own steps (a bounce-back may or may not precede the agent signing in).
    const trail = await gw.store.sql`select type from events where conversation_id = ${conversationId} and type like 'conversation.%' order by id`;
    expect(trail.map((e) => e.type)).toEqual(['conversation.opened', 'conversation.offered', 'conversation.requeued', 'conversation.offered']);
    b.disconnect();
    citizen.disconnect();
  });

  it('stops pushing a conversation to an agent it was taken from', async () => {
    const [x, y] = await createAgents(gw, [{ username: 'xavier' }, { username: 'yolanda' }]);
    const citizen = await connectCitizen(gw);
    await request(citizen, 'session:start', {});
    const { conversationId } = await request<{ conversationId: string }>(citizen, 'message:send', { clientId: randomUUID(), text: 'first words' });
    const ax = await connectAgent(gw, x!.token);
    const offeredToX = nextEvent<ConversationView>(ax, 'conversation:offered', (c) => c.id === conversationId);
    await request(ax, 'presence:set', { presence: 'available' });
    await offeredToX;
    await request(ax, 'conversation:open', { conversationId });

    const seenByX: string[] = [];
    ax.on('message:new', (m) => seenByX.push(m.body));
    const ay = await connectAgent(gw, y!.token);
    await request(ay, 'presence:set', { presence: 'available' });
    const offeredToY = nextEvent<ConversationView>(ay, 'conversation:offered', (c) => c.id === conversationId);
    await request(ax, 'presence:set', { presence: 'away' });
    await offeredToY;

    const seenByY = nextEvent<{ body: string }>(ay, 'message:new', (m) => m.body === 'a secret detail');
    await request(citizen, 'message:send', { clientId: randomUUID(), text: 'a secret detail' });
    await seenByY;
    await request(ax, 'conversation:list', {}); // a round trip: anything pushed to X before it has arrived
    expect(seenByX).not.toContain('a secret detail');
    ax.disconnect();
    ay.disconnect();
    citizen.disconnect();
  });
});
