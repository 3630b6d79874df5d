/**
 * Several processes on one PostgreSQL and Redis: two API processes and a
 * worker. The citizen is connected to one API process, the agent to the
 * other, and routing and sending happen in the worker: every push crosses
 * processes through Socket.IO's Redis streams adapter.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CitizenMessageView, ConversationView } from '../../src/realtime/events.ts';
import {
  connectAgent,
  connectCitizen,
  createAgents,
  request,
  startTestGateway,
  type AgentSocket,
  type CitizenSocket,
  type TestGateway,
} from '../support/gateway.ts';
import { nextEvent } from '../support/wait.ts';

describe('two API processes and a worker', () => {
  let worker: TestGateway;
  let apiA: TestGateway;
  let apiB: TestGateway;
  let agent: AgentSocket;
  let citizen: CitizenSocket;

  beforeAll(async () => {
    worker = await startTestGateway({ LIFELINE_ROLE: 'worker' });
    const shared = { QUEUE_PREFIX: worker.config.queuePrefix };
    apiA = await startTestGateway({ ...shared, LIFELINE_ROLE: 'api' }, { database: worker.database });
    apiB = await startTestGateway({ ...shared, LIFELINE_ROLE: 'api' }, { database: worker.database });
    const [sam] = await createAgents(apiA, [{ username: 'sam', capacity: 3 }]);
    agent = await connectAgent(apiA, sam!.token);
    await request(agent, 'presence:set', { presence: 'available' });
    citizen = await connectCitizen(apiB);
    await request(citizen, 'session:start', { name: 'Robin' });
  }, 60_000);

  afterAll(async () => {
    agent?.disconnect();
    citizen?.disconnect();
    await apiB?.stop();
    await apiA?.stop();
    await worker?.destroy();
  });

  it('carries a conversation between a citizen and an agent on different processes', async () => {
    const offered = nextEvent<ConversationView>(agent, 'conversation:offered', () => true, 15_000);
    const sent = await request<{ conversationId: string }>(citizen, 'message:send', { clientId: randomUUID(), text: 'Someone collapsed at the bus stop' });
    // Stored by API process B, routed by the worker, offered to the agent's socket on API process A.
    const offer = await offered;
    expect(offer.id).toBe(sent.conversationId);
    await request(agent, 'conversation:accept', { conversationId: offer.id });

    // The agent's reply, stored on A and sent by the worker, reaches the citizen on B.
    const reply = nextEvent<CitizenMessageView>(citizen, 'message:new', (m) => m.direction === 'outbound', 15_000);
    await request(agent, 'message:send', { conversationId: offer.id, text: 'Is the person breathing?', clientId: randomUUID() });
    expect((await reply).body).toBe('Is the person breathing?');

    // And the citizen's next message, stored on B, is pushed to the agent on A.
    const next = nextEvent<{ conversationId: string; body: string }>(agent, 'message:new', (m) => m.body === 'Yes, but barely', 15_000);
    await request(citizen, 'message:send', { clientId: randomUUID(), text: 'Yes, but barely' });
    expect((await next).conversationId).toBe(offer.id);
  });

  it('relays typing across processes both ways', async () => {
    const [row] = await worker.store.sql<Array<{ id: string }>>`select id from conversations order by opened_at desc limit 1`;
    const conversationId = row!.id;
    await request(agent, 'conversation:open', { conversationId }); // joins the conversation's room
    const seenByAgent = nextEvent<{ typing: boolean }>(agent, 'typing', (t) => t.typing, 10_000);
    citizen.emit('typing', { typing: true });
    expect((await seenByAgent).typing).toBe(true);
    const seenByCitizen = nextEvent<{ typing: boolean }>(citizen, 'typing', (t) => t.typing, 10_000);
    agent.emit('typing', { conversationId, typing: true });
    expect((await seenByCitizen).typing).toBe(true);
  });
});
