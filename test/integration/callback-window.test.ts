/**
 * Callback window: a citizen who writes again soon after an emergency
 * conversation reaches the agent who handled it first, at top priority,
 * whatever that agent's load and presence (while their console is connected).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConversationView } from '../../src/realtime/events.ts';
import { connectAgent, connectCitizen, createAgents, request, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { setDefaultQueue } from '../support/timers.ts';
import { nextEvent, waitFor } from '../support/wait.ts';

describe('callback window', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
    await setDefaultQueue(gw, { answer_target_seconds: 600, offer_timeout_seconds: 600 });
  });
  afterAll(async () => {
    await gw?.destroy();
  });

  it('offers a repeat message to the previous agent although every agent is at capacity and they are busy', async () => {
    const [anna, ben] = await createAgents(gw, [
      { username: 'anna', capacity: 1 },
      { username: 'ben', capacity: 1 },
    ]);
    const a = await connectAgent(gw, anna!.token);
    await request(a, 'presence:set', { presence: 'available' });
    const first = nextEvent<ConversationView>(a, 'conversation:offered');
    const citizen = await connectCitizen(gw);
    const { token } = await request<{ token: string }>(citizen, 'session:start', {});
    const { conversationId: emergency } = await request<{ conversationId: string }>(citizen, 'message:send', { clientId: randomUUID(), text: 'he is hitting me' });
    expect((await first).id).toBe(emergency);
    await request(a, 'conversation:accept', { conversationId: emergency });
    const flagged = await request<ConversationView>(a, 'conversation:flag-emergency', { conversationId: emergency });
    expect(flagged.emergency).toBe(true);
    await request(a, 'conversation:resolve', { conversationId: emergency, resolution: 'handled' });

    // Both agents fill up with other citizens; Anna goes busy.
    const b = await connectAgent(gw, ben!.token);
    await request(b, 'presence:set', { presence: 'available' });
    const others = [];
    for (const text of ['first other', 'second other']) {
      const other = await connectCitizen(gw);
      await request(other, 'session:start', {});
      await request(other, 'message:send', { clientId: randomUUID(), text });
      others.push(other);
    }
    await waitFor('both agents at capacity', async () => {
      const rows = await gw.store.sql`select load, capacity from agents where id in (${anna!.id}, ${ben!.id})`;
      return rows.every((r) => r.load >= r.capacity);
    });
    const annaHolds = await gw.store.sql`select id from conversations where agent_id = ${anna!.id} and status = 'offered'`;
    await request(a, 'conversation:accept', { conversationId: annaHolds[0]!.id });
    await request(a, 'presence:set', { presence: 'busy' });

    const back = nextEvent<ConversationView>(a, 'conversation:offered', (c) => c.id !== emergency && c.previousConversationId === emergency);
    const resumed = await connectCitizen(gw, token);
    const { conversationId: repeat } = await request<{ conversationId: string }>(resumed, 'message:send', { clientId: randomUUID(), text: 'he came back' });
    const offer = await back;
    expect(offer).toMatchObject({ id: repeat, agentId: anna!.id, preferredAgentId: anna!.id, previousConversationId: emergency });
    expect(offer.priority).toBeGreaterThanOrEqual(10_000);
    const [annaNow] = await gw.store.sql`select load, capacity, presence from agents where id = ${anna!.id}`;
    expect(annaNow).toMatchObject({ load: 2, capacity: 1, presence: 'busy' });
    const [matched] = await gw.store.sql`select data from events where conversation_id = ${repeat} and type = 'callback_window.matched'`;
    expect((matched!.data as { preferredAgentId: string }).preferredAgentId).toBe(anna!.id);
    // No bounce-back: an agent is signed in.
    const [bounces] = await gw.store.sql`select count(*)::int as n from messages where conversation_id = ${repeat} and direction = 'system'`;
    expect(bounces!.n).toBe(0);
    for (const s of [a, b, citizen, resumed, ...others]) s.disconnect();
  });
});
