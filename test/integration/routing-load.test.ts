/**
 * 200 web-chat messages from 50 citizens, 3 agents of capacity 2, two gateway
 * processes' worth of workers routing concurrently: every message stored once,
 * each conversation held by at most one agent, no agent over capacity, and
 * offers in priority order (highest first, then oldest).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConversationView } from '../../src/realtime/events.ts';
import { api, connectCitizen, createAgents, request, startTestGateway, type CitizenSocket, type TestGateway } from '../support/gateway.ts';
import { waitFor } from '../support/wait.ts';

const CITIZENS = 50;
const PER_CITIZEN = 4;
const CAPACITY = 2;

/** The first message decides priority: some mention a gun (100), some a fire (90), the rest nothing. */
function firstText(i: number): string {
  if (i % 7 === 3) return `citizen ${i}: a man with a gun is outside`;
  if (i % 5 === 1) return `citizen ${i}: I smell smoke, there is a fire`;
  return `citizen ${i}: please help, I cannot talk`;
}

describe('routing under load', () => {
  let gw: TestGateway;
  let second: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ QUEUE_PREFIX: `load${Date.now()}` });
    second = await startTestGateway({ QUEUE_PREFIX: gw.config.queuePrefix }, { database: gw.database });
  });
  afterAll(async () => {
    await second?.stop();
    await gw?.destroy();
  });

  it('stores each message once and assigns in priority order without overfilling anyone', async () => {
    const agents = await createAgents(gw, [
      { username: 'a1', capacity: CAPACITY },
      { username: 'a2', capacity: CAPACITY },
      { username: 'a3', capacity: CAPACITY },
    ]);
    const citizens: CitizenSocket[] = [];
    for (let i = 0; i < CITIZENS; i++) {
      const socket = await connectCitizen(i % 2 === 0 ? gw : second);
      await request(socket, 'session:start', { name: `citizen-${i}` });
      citizens.push(socket);
    }
    // Each citizen's first message goes in order (so "oldest" is well defined); the rest race.
    for (let i = 0; i < CITIZENS; i++) {
      await request(citizens[i]!, 'message:send', { clientId: randomUUID(), text: firstText(i) });
    }
    const sends: Array<Promise<unknown>> = [];
    for (let round = 1; round < PER_CITIZEN; round++) {
      citizens.forEach((socket, i) => sends.push(request(socket, 'message:send', { clientId: randomUUID(), text: `citizen ${i} message ${round}` })));
    }
    await Promise.all(sends);

    const sql = gw.store.sql;
    await waitFor('all messages routed', async () => {
      const [row] = await sql`select count(*)::int as n from outbox where kind = 'route' and processed_at is null`;
      return row!.n === 0;
    }, 20_000);
    const [scored] = await sql`select count(*)::int as n from conversations where queue_id is not null`;
    expect(scored!.n).toBe(CITIZENS);

    // Agents come online only now: every conversation is waiting, so the offer order is fully determined.
    const resolved = new Set<string>();
    const drive = async (agent: { token: string }) => {
      const put = await api(gw, 'PUT', '/api/agents/me/presence', { token: agent.token, body: { presence: 'available' } });
      expect(put.status).toBe(200);
      while (resolved.size < CITIZENS) {
        const list = await api<{ conversations: ConversationView[] }>(gw, 'GET', '/api/conversations', { token: agent.token });
        const mine = list.body.conversations.filter((c) => c.status === 'offered');
        for (const c of mine) {
          const accepted = await api(gw, 'POST', `/api/conversations/${c.id}/accept`, { token: agent.token });
          expect(accepted.status).toBe(200);
          const done = await api(gw, 'POST', `/api/conversations/${c.id}/resolve`, { token: agent.token, body: { resolution: 'handled' } });
          expect(done.status).toBe(200);
          resolved.add(c.id);
        }
        if (mine.length === 0) await new Promise((r) => setTimeout(r, 20));
      }
    };
    await Promise.race([
      Promise.all(agents.map(drive)),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${resolved.size} conversations handled in 60 s`)), 60_000).unref()),
    ]);

    // Exactly once: 200 inbound rows, 200 distinct client ids, none duplicated.
    const [counts] = await sql`select count(*)::int as n, count(distinct channel_message_id)::int as d from messages where direction = 'inbound'`;
    expect(counts).toEqual({ n: CITIZENS * PER_CITIZEN, d: CITIZENS * PER_CITIZEN });
    const [convs] = await sql`select count(*)::int as n from conversations`;
    expect(convs!.n).toBe(CITIZENS);

    // At most one agent per conversation: one offer each, never re-offered elsewhere.
    const offers = await sql<{ conversation_id: string; agent_id: string }[]>`
      select conversation_id, data->>'agentId' as agent_id from events where type = 'conversation.offered' order by id`;
    expect(offers).toHaveLength(CITIZENS);
    expect(new Set(offers.map((o) => o.conversation_id)).size).toBe(CITIZENS);

    // No agent over capacity: replay offers and resolutions in audit order.
    const trail = await sql<{ type: string; conversation_id: string; agent_id: string | null }[]>`
      select e.type, e.conversation_id, coalesce(e.data->>'agentId', c.agent_id::text) as agent_id
      from events e join conversations c on c.id = e.conversation_id
      where e.type in ('conversation.offered', 'conversation.resolved') order by e.id`;
    const load = new Map<string, number>();
    let peak = 0;
    for (const e of trail) {
      const delta = e.type === 'conversation.offered' ? 1 : -1;
      const next = (load.get(e.agent_id!) ?? 0) + delta;
      load.set(e.agent_id!, next);
      peak = Math.max(peak, next);
    }
    expect(peak).toBeLessThanOrEqual(CAPACITY);
    expect(peak).toBe(CAPACITY);
    const loads = await sql`select load from agents where username in ('a1', 'a2', 'a3')`;
    expect(loads.map((r) => r.load)).toEqual([0, 0, 0]);

    // Priority order: the offer sequence is the waiting list sorted by priority desc, then oldest.
    const expected = await sql<{ id: string; priority: number }[]>`
      select id, priority from conversations order by priority desc, queued_at asc`;
    expect(offers.map((o) => o.conversation_id)).toEqual(expected.map((c) => c.id));
    expect(new Set(expected.map((c) => c.priority))).toEqual(new Set([100, 90, 0]));

    for (const s of citizens) s.disconnect();
  });
});
