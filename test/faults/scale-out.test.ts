/**
 * Scale-out with real processes: two API and two worker processes on one
 * PostgreSQL and one Redis. A citizen on one API process and an agent on the
 * other talk normally; 200 messages from 50 citizens reach 3 agents with no
 * conversation offered to two agents at once; the SMPP link is bound once
 * and moves to the other worker within seconds of its holder being killed -9.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CitizenMessageView, ConversationView } from '../../src/realtime/events.ts';
import { connectAgent, connectCitizen, createAgents, request, type AgentSocket, type CitizenSocket } from '../support/gateway.ts';
import { nextEvent, waitFor } from '../support/wait.ts';
import { startCluster, type Cluster } from './cluster.ts';
import { AgentConsole, ChatCitizen } from './traffic.ts';

const LEASE_MS = 3000;

describe('scale-out: two API and two worker processes', () => {
  let cluster: Cluster;
  const sockets: Array<AgentSocket | CitizenSocket> = [];
  const consoles: AgentConsole[] = [];
  const citizens: ChatCitizen[] = [];

  beforeAll(async () => {
    cluster = await startCluster({ apis: 2, workers: 2, env: { LINK_LEASE_MS: String(LEASE_MS) } });
  });

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    for (const c of [...consoles, ...citizens]) c.close();
    await cluster?.destroy();
  });

  const [a, b] = [0, 1];

  it('carries a conversation between a citizen on one API process and an agent on the other', async () => {
    const [sam] = await createAgents(cluster.apis[a]!, [{ username: 'sam', capacity: 3 }]);
    const agent = await connectAgent(cluster.apis[a]!, sam!.token);
    sockets.push(agent);
    await request(agent, 'presence:set', { presence: 'available' });
    const citizen = await connectCitizen(cluster.apis[b]!);
    sockets.push(citizen);
    await request(citizen, 'session:start', { name: 'Robin' });

    const offered = nextEvent<ConversationView>(agent, 'conversation:offered', () => true, 20_000);
    const sent = await request<{ conversationId: string }>(citizen, 'message:send', { clientId: randomUUID(), text: 'Someone collapsed at the bus stop' });
    const offer = await offered;
    expect(offer.id).toBe(sent.conversationId);
    await request(agent, 'conversation:accept', { conversationId: offer.id });

    const reply = nextEvent<CitizenMessageView>(citizen, 'message:new', (m) => m.direction === 'outbound', 20_000);
    await request(agent, 'message:send', { conversationId: offer.id, text: 'Is the person breathing?', clientId: randomUUID() });
    expect((await reply).body).toBe('Is the person breathing?');

    const next = nextEvent<{ conversationId: string; body: string }>(agent, 'message:new', (m) => m.body === 'Yes, but barely', 20_000);
    await request(citizen, 'message:send', { clientId: randomUUID(), text: 'Yes, but barely' });
    expect((await next).conversationId).toBe(offer.id);
    // Sam leaves: the next test's agents are the only ones with room.
    await request(agent, 'presence:set', { presence: 'offline' });
  });

  it('routes 200 messages from 50 citizens to 3 agents without offering a conversation to two agents at once', async () => {
    const accounts = await createAgents(cluster.apis[a]!, [
      { username: 'ana', capacity: 20 },
      { username: 'ben', capacity: 20 },
      { username: 'cho', capacity: 20 },
    ]);
    // Agents and citizens spread over both API processes.
    for (const [i, account] of accounts.entries()) consoles.push(await AgentConsole.connect(cluster.apis[i % 2]!.url, account));
    for (let i = 0; i < 50; i++) citizens.push(await ChatCitizen.connect(cluster.apis[(i + 1) % 2]!.url, i));

    const started = Date.now();
    const sends: Array<Promise<unknown>> = [];
    const conversationOf = new Map<number, Set<string>>();
    for (let round = 0; round < 4; round++) {
      for (const c of citizens) {
        const text = `scale:${c.index}:${round}`;
        sends.push(
          request<{ conversationId: string }>(c.socket, 'message:send', { clientId: randomUUID(), text }).then((r) => {
            conversationOf.set(c.index, (conversationOf.get(c.index) ?? new Set()).add(r.conversationId));
          }),
        );
      }
    }
    await Promise.all(sends);
    const bodies = citizens.flatMap((c) => [0, 1, 2, 3].map((r) => `scale:${c.index}:${r}`));
    const shown = () => bodies.filter((body) => consoles.some((k) => k.seen.has(body))).length;
    await waitFor(`200 messages shown to agents (${shown()} so far)`, () => shown() === 200, 60_000, 50);
    const elapsed = Date.now() - started;

    // One conversation per citizen; 200 rows, each once.
    expect([...conversationOf.values()].every((s) => s.size === 1)).toBe(true);
    const conversationIds = [...conversationOf.values()].map((s) => [...s][0]!);
    expect(new Set(conversationIds).size).toBe(50);
    const [stored] = await cluster.sql<Array<{ rows: number; distinct: number }>>`
      select count(*)::int as rows, count(distinct body)::int as distinct from messages where direction = 'inbound' and body like 'scale:%'`;
    expect(stored).toEqual({ rows: 200, distinct: 200 });

    // Pushed offers: each conversation to exactly one agent.
    const offeredTo = new Map<string, Set<string>>();
    for (const k of consoles) for (const o of k.offers) offeredTo.set(o.conversationId, (offeredTo.get(o.conversationId) ?? new Set()).add(k.username));
    const pushedTwice = [...offeredTo].filter(([, who]) => who.size > 1);
    expect(pushedTwice).toEqual([]);
    expect(conversationIds.every((id) => offeredTo.has(id))).toBe(true);

    // The store's record: one offer per conversation, and every conversation held by the agent it was offered to.
    const offers = await cluster.sql<Array<{ conversation_id: string; agents: string[]; offers: number; holder: string; status: string }>>`
      select e.conversation_id, array_agg(distinct e.data->>'agentId') as agents, count(*)::int as offers,
             c.agent_id::text as holder, c.status
        from events e join conversations c on c.id = e.conversation_id
       where e.type = 'conversation.offered' and e.conversation_id = any(${conversationIds}::uuid[])
       group by e.conversation_id, c.agent_id, c.status`;
    expect(offers).toHaveLength(50);
    const doubled = offers.filter((o) => o.offers !== 1 || o.agents.length !== 1 || o.agents[0] !== o.holder || o.status !== 'active');
    expect(doubled).toEqual([]);
    // Loads add up: each agent's load is what it holds, never above its capacity.
    const loads = await cluster.sql<Array<{ username: string; load: number; capacity: number; held: number }>>`
      select a.username, a.load, a.capacity,
             (select count(*)::int from conversations c where c.agent_id = a.id and c.status in ('offered', 'active', 'on_hold')) as held
        from agents a where a.username in ('ana', 'ben', 'cho') order by a.username`;
    expect(loads.every((l) => l.load === l.held && l.load <= l.capacity)).toBe(true);
    expect(loads.reduce((n, l) => n + l.held, 0)).toBe(50);
    console.log(
      `scale-out routing: 200 messages from 50 citizens (2 API processes) shown to 3 agents in ${(elapsed / 1000).toFixed(1)} s; ` +
        `offers per conversation: 1; loads ${loads.map((l) => `${l.username}=${l.load}/${l.capacity}`).join(', ')}; ` +
        `repeated pushes ${consoles.reduce((n, k) => n + k.pushRepeats, 0)}`,
    );
    expect(consoles.flatMap((k) => k.errors)).toEqual([]);
  });

  it('binds the SMPP link once and moves it to the other worker within seconds of its holder being killed -9', async () => {
    const linkId = await cluster.createSmsLink();
    const first = await waitFor('the link lease held by a worker', () => cluster.holderOf(linkId), 10_000);
    // Several lease renewals later it is still the one bind on one connection.
    const firstExpiry = Date.parse((await cluster.link(linkId)).runner!.expiresAt);
    await waitFor('three lease renewals', async () => Date.parse((await cluster.link(linkId)).runner?.expiresAt ?? '0') > firstExpiry + LEASE_MS, 15_000, 100);
    expect(cluster.smsc.boundCount).toBe(1);
    expect(cluster.smsc.connections).toBe(1);

    const binds = cluster.smsc.boundCount;
    const killedAt = performance.now();
    await first.kill9();
    await waitFor('a bind from another process', () => cluster.smsc.boundCount > binds, 30_000, 10);
    const takeoverMs = performance.now() - killedAt;
    const second = await waitFor('the new lease holder', async () => {
      const h = await cluster.holderOf(linkId);
      return h && h !== first ? h : undefined;
    }, 10_000);
    console.log(`SMPP link takeover: ${first.name} killed -9, ${second.name} bound after ${(takeoverMs / 1000).toFixed(2)} s (LINK_LEASE_MS=${LEASE_MS})`);
    expect(takeoverMs).toBeLessThan(LEASE_MS + 5000);
    expect(cluster.smsc.boundCount).toBe(binds + 1);

    // The moved link carries texts: one from a citizen reaches an agent.
    const resp = await cluster.smsc.text('15550001234', Buffer.from('scale:sms after takeover', 'latin1'), 0);
    expect(resp.command_status).toBe(0);
    await waitFor('the text shown to an agent', () => consoles.some((k) => k.seen.has('scale:sms after takeover')), 20_000, 50);
    await first.start(); // restored, and it must not take the link back while the lease is held
    expect(await cluster.holderOf(linkId)).toBe(second);
  });
});
