/**
 * Timers are delayed BullMQ jobs: each fires once, after its queue's
 * duration, even when the process that set it stopped meanwhile and another
 * one started on the same database and Redis.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConversationView } from '../../src/realtime/events.ts';
import { ADMIN_PASSWORD, api, connectAgent, connectCitizen, createAgents, login, request, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { jobState, restart, setDefaultQueue } from '../support/timers.ts';
import { nextEvent, waitFor } from '../support/wait.ts';

const gateways: TestGateway[] = [];
afterEach(async () => {
  const last = gateways.pop();
  for (const g of gateways.splice(0)) await g.stop().catch(() => undefined);
  await last?.destroy();
});
const start = async (env: Record<string, string> = {}) => {
  const gw = await startTestGateway(env);
  gateways.push(gw);
  return gw;
};
const restarted = async (gw: TestGateway) => {
  const next = await restart(gw);
  gateways.push(next);
  return next;
};
const eventCount = async (gw: TestGateway, conversationId: string, type: string) => {
  const [row] = await gw.store.sql`select count(*)::int as n from events where conversation_id = ${conversationId} and type = ${type}`;
  return row!.n as number;
};
const completed = (gw: TestGateway, jobId: string) => waitFor(`timer ${jobId} completed`, async () => (await jobState(gw, 'timers', jobId)) === 'completed', 15_000);

async function citizenWrites(gw: TestGateway, text = 'help') {
  const citizen = await connectCitizen(gw);
  const { token } = await request<{ token: string }>(citizen, 'session:start', {});
  const { conversationId } = await request<{ conversationId: string }>(citizen, 'message:send', { clientId: randomUUID(), text });
  return { citizen, token, conversationId };
}

describe('offer timeout', () => {
  it('moves an unaccepted offer to the next agent and sets an agent who misses enough offers away', async () => {
    const gw = await start();
    await setDefaultQueue(gw, { offer_timeout_seconds: 1, missed_offers_before_away: 1, answer_target_seconds: 600 });
    const [first, second] = await createAgents(gw, [{ username: 'first' }, { username: 'second' }]);
    const a = await connectAgent(gw, first!.token);
    await request(a, 'presence:set', { presence: 'available' });
    const offeredToA = nextEvent<ConversationView>(a, 'conversation:offered');
    const { citizen, conversationId } = await citizenWrites(gw);
    expect((await offeredToA).id).toBe(conversationId);
    const b = await connectAgent(gw, second!.token);
    const offeredToB = nextEvent<ConversationView>(b, 'conversation:offered', (c) => c.id === conversationId);
    await request(b, 'presence:set', { presence: 'available' });
    expect((await offeredToB).agentId).toBe(second!.id);

    const meA = await api<{ agent: { presence: string; load: number } }>(gw, 'GET', '/api/auth/me', { token: first!.token });
    expect(meA.body.agent).toMatchObject({ presence: 'away', load: 0 });
    const [timedOut] = await gw.store.sql`select data from events where conversation_id = ${conversationId} and type = 'offer.timed_out'`;
    expect((timedOut!.data as { agentId: string }).agentId).toBe(first!.id);
    const [away] = await gw.store.sql`select data from events where type = 'agent.set_away'`;
    expect((away!.data as { agentId: string }).agentId).toBe(first!.id);
    // Accepting resets the streak.
    await request(b, 'conversation:accept', { conversationId });
    const [row] = await gw.store.sql`select missed_offers from agents where id = ${second!.id}`;
    expect(row!.missed_offers).toBe(0);
    for (const s of [a, b, citizen]) s.disconnect();
  });

  it('fires once after a restart', async () => {
    let gw = await start();
    await setDefaultQueue(gw, { offer_timeout_seconds: 2, missed_offers_before_away: 1, answer_target_seconds: 600 });
    const [agent] = await createAgents(gw, [{ username: 'sleepy' }]);
    const socket = await connectAgent(gw, agent!.token);
    await request(socket, 'presence:set', { presence: 'available' });
    const offered = nextEvent<ConversationView>(socket, 'conversation:offered');
    const { conversationId } = await citizenWrites(gw);
    const offer = await offered;
    gw = await restarted(gw);
    const jobId = `offer-timeout-${conversationId}-${offer.version}`;
    await completed(gw, jobId);
    expect(await eventCount(gw, conversationId, 'offer.timed_out')).toBe(1);
    const [row] = await gw.store.sql`select status, agent_id from conversations where id = ${conversationId}`;
    expect(row).toMatchObject({ status: 'queued', agent_id: null });
  });
});

describe('transfer timers', () => {
  it('times out a transfer the agent ignores: back to the queue and offered to the next agent', async () => {
    const gw = await start();
    await setDefaultQueue(gw, { offer_timeout_seconds: 1, missed_offers_before_away: 5, answer_target_seconds: 600 });
    const [alice, bob] = await createAgents(gw, [{ username: 'alice' }, { username: 'bob' }]);
    const a = await connectAgent(gw, alice!.token);
    await request(a, 'presence:set', { presence: 'available' });
    const offered = nextEvent<ConversationView>(a, 'conversation:offered');
    const { citizen, conversationId } = await citizenWrites(gw);
    await offered;
    await request(a, 'conversation:accept', { conversationId });
    const b = await connectAgent(gw, bob!.token);
    await request(b, 'presence:set', { presence: 'available' });

    const toBob = nextEvent<ConversationView>(b, 'conversation:offered', (c) => c.id === conversationId);
    const backToAlice = nextEvent<ConversationView>(a, 'conversation:offered', (c) => c.id === conversationId);
    const transferred = await request<ConversationView>(a, 'conversation:transfer', { conversationId, to: { agentId: bob!.id }, note: 'Please take this one', clientId: randomUUID() });
    expect(transferred).toMatchObject({ status: 'offered', agentId: bob!.id });
    await toBob;
    // Bob ignores it: the offer's own timer fires and routing offers it to the next agent.
    await completed(gw, `offer-timeout-${conversationId}-${transferred.version}`);
    expect((await backToAlice).agentId).toBe(alice!.id);
    const [timedOut] = await gw.store.sql`select data from events where conversation_id = ${conversationId} and type = 'offer.timed_out'`;
    expect((timedOut!.data as { agentId: string }).agentId).toBe(bob!.id);
    const [bobRow] = await gw.store.sql`select load, missed_offers from agents where id = ${bob!.id}`;
    expect(bobRow).toMatchObject({ load: 0, missed_offers: 1 });
    const [row] = await gw.store.sql`select status, agent_id from conversations where id = ${conversationId}`;
    expect(row).toMatchObject({ status: 'offered', agent_id: alice!.id });
    for (const s of [a, b, citizen]) s.disconnect();
  });

  it("escalates a conversation transferred to a queue after that queue's answer target", async () => {
    const gw = await start();
    await setDefaultQueue(gw, { answer_target_seconds: 600 });
    const [alice] = await createAgents(gw, [{ username: 'alice' }]);
    const admin = await login(gw, 'admin', ADMIN_PASSWORD);
    const urgent = await api<{ queue: { id: string } }>(gw, 'POST', '/api/queues', { token: admin, body: { name: 'Urgent', answerTargetSeconds: 5 } });
    // Below the API's bound, to keep the test short.
    await gw.store.sql`update queues set answer_target_seconds = 1 where id = ${urgent.body.queue.id}`;
    const a = await connectAgent(gw, alice!.token);
    await request(a, 'presence:set', { presence: 'available' });
    const offered = nextEvent<ConversationView>(a, 'conversation:offered');
    const { citizen, conversationId } = await citizenWrites(gw);
    await offered;
    await request(a, 'conversation:accept', { conversationId });
    // Nobody available to take it in the new queue.
    await request(a, 'presence:set', { presence: 'busy' });
    const moved = await request<ConversationView>(a, 'conversation:transfer', { conversationId, to: { queueId: urgent.body.queue.id }, note: 'Needs urgent', clientId: randomUUID() });
    expect(moved).toMatchObject({ status: 'queued', queueId: urgent.body.queue.id });
    await completed(gw, `escalate-${conversationId}-${Date.parse(moved.queuedAt)}`);
    const [escalated] = await gw.store.sql`select data from events where conversation_id = ${conversationId} and type = 'conversation.escalated'`;
    expect((escalated!.data as { answerTargetSeconds: number }).answerTargetSeconds).toBe(1);
    const [row] = await gw.store.sql`select status, escalated_at from conversations where id = ${conversationId}`;
    expect(row!.status).toBe('queued');
    expect(row!.escalated_at).not.toBeNull();
    for (const s of [a, citizen]) s.disconnect();
  });
});

describe('escalation timer', () => {
  it('fires once after a restart', async () => {
    let gw = await start();
    await setDefaultQueue(gw, { answer_target_seconds: 2 });
    const { conversationId } = await citizenWrites(gw);
    const [c] = await gw.store.sql`select (extract(epoch from date_trunc('milliseconds', queued_at)) * 1000)::bigint as ms from conversations where id = ${conversationId}`;
    await waitFor('the escalation timer set', async () => (await jobState(gw, 'timers', `escalate-${conversationId}-${c!.ms}`)) === 'delayed');
    gw = await restarted(gw);
    await completed(gw, `escalate-${conversationId}-${c!.ms}`);
    expect(await eventCount(gw, conversationId, 'conversation.escalated')).toBe(1);
    const [row] = await gw.store.sql`select escalated_at from conversations where id = ${conversationId}`;
    expect(row!.escalated_at).not.toBeNull();
    const texts = await gw.store.sql`select body from messages where conversation_id = ${conversationId} and body like 'We are still connecting%'`;
    expect(texts).toHaveLength(1);
  });
});

describe('inactivity timer', () => {
  it('closes a silent conversation after a restart, tells the citizen, and a new message opens a linked conversation', async () => {
    let gw = await start();
    await setDefaultQueue(gw, { inactivity_minutes: 2 / 60, answer_target_seconds: 600 });
    const [agent] = await createAgents(gw, [{ username: 'handler' }]);
    const socket = await connectAgent(gw, agent!.token);
    await request(socket, 'presence:set', { presence: 'available' });
    const offered = nextEvent<ConversationView>(socket, 'conversation:offered');
    const { token, conversationId } = await citizenWrites(gw, 'my neighbour fell');
    await offered;
    await request(socket, 'conversation:accept', { conversationId });
    gw = await restarted(gw);
    const closed = await waitFor('closed for inactivity', async () => {
      const [row] = await gw.store.sql`select status, resolution from conversations where id = ${conversationId}`;
      return row!.status === 'resolved' ? row : undefined;
    });
    expect(closed.resolution).toBe('timed_out');
    // The audit event is written just after the resolution commits.
    await waitFor('the timed_out event', async () => (await eventCount(gw, conversationId, 'conversation.timed_out')) === 1);
    const notice = await waitFor('the inactivity notice stored', async () => {
      const rows = await gw.store.sql`select body from messages where conversation_id = ${conversationId} and direction = 'system' and body like 'This conversation was closed%'`;
      return rows.length > 0 && rows;
    });
    expect(notice).toHaveLength(1);

    const citizen = await connectCitizen(gw, token);
    const { conversationId: next } = await request<{ conversationId: string }>(citizen, 'message:send', { clientId: randomUUID(), text: 'I still need help' });
    expect(next).not.toBe(conversationId);
    const linked = await waitFor('the new conversation linked', async () => {
      const [row] = await gw.store.sql`select previous_conversation_id from conversations where id = ${next}`;
      return row!.previous_conversation_id ? row : undefined;
    });
    expect(linked.previous_conversation_id).toBe(conversationId);
    expect(await eventCount(gw, conversationId, 'conversation.timed_out')).toBe(1);
    citizen.disconnect();
  });
});

describe('callback window timer', () => {
  it('ends the window once after a restart', async () => {
    let gw = await start();
    await setDefaultQueue(gw, { callback_window_minutes: 2 / 60, answer_target_seconds: 600 });
    const [agent] = await createAgents(gw, [{ username: 'emergency-handler' }]);
    const socket = await connectAgent(gw, agent!.token);
    await request(socket, 'presence:set', { presence: 'available' });
    const offered = nextEvent<ConversationView>(socket, 'conversation:offered');
    const { conversationId } = await citizenWrites(gw, 'he has a knife');
    await offered;
    await request(socket, 'conversation:accept', { conversationId });
    const flagged = await api<{ conversation: ConversationView }>(gw, 'POST', `/api/conversations/${conversationId}/emergency`, { token: agent!.token });
    expect(flagged.status).toBe(200);
    expect(flagged.body.conversation.emergency).toBe(true);
    await request(socket, 'conversation:resolve', { conversationId, resolution: 'handled' });
    const [c] = await gw.store.sql`select (extract(epoch from date_trunc('milliseconds', resolved_at)) * 1000)::bigint as ms from conversations where id = ${conversationId}`;
    const jobId = `callback-window-${conversationId}-${c!.ms}`;
    expect(await jobState(gw, 'timers', jobId)).toBe('delayed');
    gw = await restarted(gw);
    await completed(gw, jobId);
    expect(await eventCount(gw, conversationId, 'callback_window.closed')).toBe(1);
  });
});
