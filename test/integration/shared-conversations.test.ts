/**
 * Shared conversations against a real gateway (PostgreSQL, Redis, workers):
 * who may open, join and leave; internal notes never reach the citizen;
 * one-way notices do, without accepting; a supervisor's takeover; transfers
 * to an agent and to a queue with their audit trail.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  CitizenMessageView,
  ConversationDetail,
  ConversationView,
  MessageView,
  Reply,
} from '../../src/realtime/events.ts';
import { toCitizenView } from '../../src/store/conversations.ts';
import {
  api,
  connectAgent,
  connectCitizen,
  createAgents,
  request,
  startTestGateway,
  type AgentSocket,
  type CitizenSocket,
  type TestGateway,
} from '../support/gateway.ts';
import { nextEvent, waitFor } from '../support/wait.ts';

type Ref = { id: string; token: string };
const ask = (socket: AgentSocket, event: string, input: unknown) =>
  (socket.timeout(5000) as unknown as { emitWithAck(e: string, i: unknown): Promise<Reply<unknown>> }).emitWithAck(event, input);

describe('shared conversations', () => {
  let gw: TestGateway;
  let alice: Ref, bob: Ref, carol: Ref, sam: Ref;
  let aliceSocket: AgentSocket;
  const sockets: Array<AgentSocket | CitizenSocket> = [];

  beforeAll(async () => {
    gw = await startTestGateway();
    [alice, bob, carol, sam] = (await createAgents(gw, [
      { username: 'alice' },
      { username: 'bob' },
      { username: 'carol' },
      { username: 'sam', role: 'supervisor' },
    ])) as unknown as [Ref, Ref, Ref, Ref];
    aliceSocket = await connectAgent(gw, alice.token);
    sockets.push(aliceSocket);
    await request(aliceSocket, 'presence:set', { presence: 'available' });
  });
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await gw?.destroy();
  });

  /** A citizen writes on web chat; the conversation is offered to alice (the only available agent) and, unless told not to, accepted. */
  async function citizenConversation(text: string, accept = true): Promise<{ citizen: CitizenSocket; conversationId: string }> {
    const citizen = await connectCitizen(gw);
    sockets.push(citizen);
    await request(citizen, 'session:start', { name: 'Dana' });
    const offered = nextEvent<ConversationView>(aliceSocket, 'conversation:offered');
    const sent = await request<{ conversationId: string }>(citizen, 'message:send', { clientId: randomUUID(), text });
    expect((await offered).id).toBe(sent.conversationId);
    if (accept) await request(aliceSocket, 'conversation:accept', { conversationId: sent.conversationId });
    return { citizen, conversationId: sent.conversationId };
  }

  const eventsOf = async (conversationId: string) =>
    (await gw.store.sql<Array<{ type: string; actor_id: string | null; data: Record<string, unknown> }>>`
      select type, actor_id, data from events where conversation_id = ${conversationId} order by id`).filter((e) => e.type !== 'message.status');

  it('lets only invited agents in, shows them everything, and shuts them out after they leave', async () => {
    const { citizen, conversationId } = await citizenConversation('Someone is breaking in');
    const bobSocket = await connectAgent(gw, bob.token);
    sockets.push(bobSocket);
    const path = `/api/conversations/${conversationId}`;

    // Not a participant: 403 naming the field, over HTTP and the socket; no joining uninvited.
    expect(await api(gw, 'GET', path, { token: bob.token })).toMatchObject({ status: 403, body: { error: { code: 'forbidden', field: 'conversationId' } } });
    expect(await ask(bobSocket, 'conversation:open', { conversationId })).toMatchObject({ ok: false, error: { code: 'forbidden', field: 'conversationId' } });
    expect(await ask(bobSocket, 'conversation:join', { conversationId })).toMatchObject({ ok: false, error: { code: 'forbidden', field: 'conversationId' } });
    expect(await api(gw, 'POST', `${path}/join`, { token: bob.token })).toMatchObject({ status: 403, body: { error: { field: 'conversationId' } } });
    // Only the owner (or a supervisor) invites; bad targets are named.
    expect(await api(gw, 'POST', `${path}/invitations`, { token: bob.token, body: { agentId: bob.id } })).toMatchObject({ status: 403 });
    expect(await api(gw, 'POST', `${path}/invitations`, { token: alice.token, body: { agentId: 'bob' } })).toMatchObject({
      status: 400,
      body: { error: { field: 'agentId' } },
    });
    expect(await api(gw, 'POST', `${path}/invitations`, { token: alice.token, body: { agentId: randomUUID() } })).toMatchObject({
      status: 404,
      body: { error: { code: 'not_found', field: 'agentId' } },
    });
    expect(await api(gw, 'POST', `/api/conversations/${randomUUID()}/invitations`, { token: alice.token, body: { agentId: bob.id } })).toMatchObject({
      status: 404,
      body: { error: { field: 'conversationId' } },
    });

    // Invited: bob is told at once, sees it in his list, joins and gets the whole history.
    const invited = nextEvent<{ conversation: ConversationView; by: string }>(bobSocket, 'conversation:invited');
    expect(await api(gw, 'POST', `${path}/invitations`, { token: alice.token, body: { agentId: bob.id } })).toMatchObject({ status: 201 });
    expect(await invited).toMatchObject({ conversation: { id: conversationId }, by: 'alice' });
    expect((await request<ConversationView[]>(bobSocket, 'conversation:list', {})).map((c) => c.id)).toEqual([conversationId]);
    const joined = nextEvent<{ type: string; data: { agentName: string } }>(aliceSocket, 'conversation:event', (e) => e.type === 'participant.joined');
    const detail = await request<ConversationDetail>(bobSocket, 'conversation:join', { conversationId });
    expect(detail.messages[0]!.body).toBe('Someone is breaking in');
    expect(detail.conversation.participantIds).toEqual([bob.id]);
    expect(detail.participants.map((p) => [p.displayName, p.kind])).toEqual([['alice', 'owner'], ['bob', 'participant']]);
    expect(detail.events.map((e) => e.type)).toEqual(expect.arrayContaining(['conversation.raised', 'conversation.accepted', 'participant.invited', 'participant.joined']));
    expect((await joined).data.agentName).toBe('bob');

    // In the room: bob's typing reaches alice with his name; his reply reaches the citizen as alice's would.
    await request(aliceSocket, 'conversation:open', { conversationId });
    const typing = nextEvent<{ who: string; agentId: string; typing: boolean }>(aliceSocket, 'typing', (t) => t.agentId === bob.id);
    bobSocket.emit('typing', { conversationId, typing: true });
    expect(await typing).toMatchObject({ who: 'bob', typing: true });
    const toCitizen = nextEvent<CitizenMessageView>(citizen, 'message:new', (m) => m.body === 'Stay where you are, police are coming');
    await request(bobSocket, 'message:send', { conversationId, text: 'Stay where you are, police are coming', clientId: randomUUID() });
    expect(await toCitizen).toMatchObject({ direction: 'outbound', authorName: 'bob' });

    // Bob leaves: everyone is told, and his access is gone (HTTP, socket, replies, joining again).
    const left = nextEvent<{ type: string }>(aliceSocket, 'conversation:event', (e) => e.type === 'participant.left');
    expect(await api(gw, 'POST', `${path}/leave`, { token: bob.token })).toMatchObject({ status: 200 });
    await left;
    expect(await api(gw, 'GET', path, { token: bob.token })).toMatchObject({ status: 403, body: { error: { field: 'conversationId' } } });
    expect(await ask(bobSocket, 'message:send', { conversationId, text: 'still here?', clientId: randomUUID() })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    expect(await ask(bobSocket, 'conversation:join', { conversationId })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await request<ConversationView[]>(bobSocket, 'conversation:list', {})).toEqual([]);
    // The owner cannot leave.
    expect(await api(gw, 'POST', `${path}/leave`, { token: alice.token })).toMatchObject({ status: 409, body: { error: { code: 'owner_cannot_leave' } } });

    const trail = await eventsOf(conversationId);
    expect(trail.filter((e) => e.type.startsWith('participant.')).map((e) => [e.type, e.actor_id, e.data.agentId])).toEqual([
      ['participant.invited', alice.id, bob.id],
      ['participant.joined', bob.id, bob.id],
      ['participant.left', bob.id, bob.id],
    ]);
    await request(aliceSocket, 'conversation:resolve', { conversationId, resolution: 'handled' });
  });

  it('keeps internal notes from the citizen and sends one-way notices without accepting', async () => {
    const { citizen, conversationId } = await citizenConversation('My neighbour collapsed', false);
    const seen: CitizenMessageView[] = [];
    citizen.on('message:new', (m) => seen.push(m));

    // A notice while the conversation is only offered: the citizen gets it as a system message; nothing is accepted.
    const notice = await request<MessageView>(aliceSocket, 'notice:send', { conversationId, text: 'Your message was received. Help is being arranged.', clientId: randomUUID() });
    expect(notice.direction).toBe('system');
    await waitFor('the notice at the citizen', () => seen.find((m) => m.id === notice.id));
    expect(seen.find((m) => m.id === notice.id)).toMatchObject({ direction: 'system', body: 'Your message was received. Help is being arranged.' });
    const [row] = await gw.store.sql<Array<{ status: string }>>`select status from conversations where id = ${conversationId}`;
    expect(row!.status).toBe('offered');
    expect((await eventsOf(conversationId)).map((e) => e.type)).toContain('conversation.notice_sent');
    expect(await api(gw, 'POST', `/api/conversations/${conversationId}/notices`, { token: carol.token, body: { text: 'x', clientId: 'c1' } })).toMatchObject({
      status: 403,
      body: { error: { field: 'conversationId' } },
    });
    expect(await api(gw, 'POST', `/api/conversations/${conversationId}/notices`, { token: alice.token, body: { text: ' ', clientId: 'c1' } })).toMatchObject({
      status: 400,
      body: { error: { field: 'text' } },
    });

    // A note, then a reply: the citizen gets the reply and never the note (live, on resume, on the wire).
    await request(aliceSocket, 'conversation:accept', { conversationId });
    const NOTE = 'Caller sounds intoxicated; verify address twice';
    const note = await api<{ message: MessageView }>(gw, 'POST', `/api/conversations/${conversationId}/notes`, {
      token: alice.token,
      body: { text: NOTE, clientId: randomUUID() },
    });
    expect(note).toMatchObject({ status: 201, body: { message: { direction: 'note', authorName: 'alice', body: NOTE } } });
    const reply = await request<MessageView>(aliceSocket, 'message:send', { conversationId, text: 'Is he breathing?', clientId: randomUUID() });
    await waitFor('the reply at the citizen', () => seen.find((m) => m.id === reply.id));
    expect(seen.map((m) => m.body)).not.toContain(NOTE);
    const history = await request<CitizenMessageView[]>(citizen, 'messages:since', { afterId: 0 });
    expect(history.map((m) => m.body)).toContain('Is he breathing?');
    expect(history.map((m) => m.body)).not.toContain(NOTE);
    const [outbox] = await gw.store.sql<Array<{ n: number }>>`select count(*)::int as n from outbox where message_id = ${note.body.message.id}`;
    expect(outbox!.n).toBe(0);
    expect(toCitizenView(note.body.message)).toBeUndefined();
    expect(toCitizenView({ ...note.body.message, direction: 'outbound' })).toMatchObject({ body: NOTE });
    // The agents still see the note in the conversation.
    const detail = await request<ConversationDetail>(aliceSocket, 'conversation:open', { conversationId });
    expect(detail.messages.find((m) => m.id === note.body.message.id)?.direction).toBe('note');
    await request(aliceSocket, 'conversation:resolve', { conversationId, resolution: 'handled' });
  });

  it('lets a supervisor take over (the agent stays as participant) and transfer to a queue or an agent with a note', async () => {
    const { conversationId } = await citizenConversation('Car crash on the highway');
    const path = `/api/conversations/${conversationId}`;
    const samSocket = await connectAgent(gw, sam.token);
    sockets.push(samSocket);
    const load = async (id: string) => (await gw.store.sql<Array<{ load: number }>>`select load from agents where id = ${id}`)[0]!.load;
    const aliceLoad = await load(alice.id);

    // Agents cannot take over; supervisors can: they own it, the agent stays on as a participant.
    expect(await api(gw, 'POST', `${path}/takeover`, { token: alice.token })).toMatchObject({ status: 403 });
    const taken = await request<ConversationView>(samSocket, 'conversation:takeover', { conversationId });
    expect(taken).toMatchObject({ agentId: sam.id, status: 'active', participantIds: [alice.id] });
    expect(await load(alice.id)).toBe(aliceLoad - 1);
    expect(await load(sam.id)).toBe(1);
    expect((await request<ConversationDetail>(aliceSocket, 'conversation:open', { conversationId })).participants.map((p) => [p.displayName, p.kind])).toEqual([
      ['sam', 'owner'],
      ['alice', 'participant'],
    ]);
    // A participant cannot transfer or resolve.
    expect(await api(gw, 'POST', `${path}/resolve`, { token: alice.token, body: { resolution: 'handled' } })).toMatchObject({ status: 403 });
    expect(await api(gw, 'POST', `${path}/transfer`, { token: alice.token, body: { to: { agentId: bob.id }, note: 'n', clientId: 'c' } })).toMatchObject({
      status: 403,
    });

    // Transfer validation names the field.
    const transfer = (body: unknown) => api(gw, 'POST', `${path}/transfer`, { token: sam.token, body });
    expect(await transfer({ to: { agentId: bob.id }, clientId: 'c' })).toMatchObject({ status: 400, body: { error: { field: 'note' } } });
    expect(await transfer({ to: { team: 'x' }, note: 'n', clientId: 'c' })).toMatchObject({ status: 400, body: { error: { field: 'to' } } });
    expect(await transfer({ to: { agentId: randomUUID() }, note: 'n', clientId: 'c' })).toMatchObject({ status: 404, body: { error: { field: 'to.agentId' } } });
    expect(await transfer({ to: { queueId: randomUUID() }, note: 'n', clientId: 'c' })).toMatchObject({ status: 404, body: { error: { field: 'to.queueId' } } });
    // Bob is offline: an offer to him would not be taken.
    expect(await transfer({ to: { agentId: bob.id }, note: 'n', clientId: 'c' })).toMatchObject({ status: 409, body: { error: { code: 'agent_unavailable' } } });

    // To a queue: waiting there again, with the note in its history; alice (available) gets it offered by routing.
    const queues = await api<{ queues: Array<{ id: string; name: string }> }>(gw, 'GET', '/api/queues', { token: sam.token });
    const queue = queues.body.queues[0]!;
    const reoffered = nextEvent<ConversationView>(aliceSocket, 'conversation:offered', (c) => c.id === conversationId);
    const toQueue = await transfer({ to: { queueId: queue.id }, note: 'Needs a call-taker who speaks Spanish', clientId: randomUUID() });
    expect(toQueue).toMatchObject({ status: 200, body: { conversation: { status: 'queued', agentId: null, queueId: queue.id } } });
    expect(await load(sam.id)).toBe(0);
    await reoffered;

    // To an agent: bob becomes available, gets it offered, and sees the history with both notes.
    const bobSocket = await connectAgent(gw, bob.token);
    sockets.push(bobSocket);
    await request(aliceSocket, 'conversation:accept', { conversationId });
    await request(bobSocket, 'presence:set', { presence: 'available' });
    const offered = nextEvent<ConversationView>(bobSocket, 'conversation:offered', (c) => c.id === conversationId);
    const toBob = await request<ConversationView>(aliceSocket, 'conversation:transfer', {
      conversationId,
      to: { agentId: bob.id },
      note: 'Two injured, one trapped; fire service already informed',
      clientId: randomUUID(),
    });
    expect(toBob).toMatchObject({ status: 'offered', agentId: bob.id });
    await offered;
    await request(bobSocket, 'conversation:accept', { conversationId });
    const detail = await request<ConversationDetail>(bobSocket, 'conversation:open', { conversationId });
    expect(detail.messages.filter((m) => m.direction === 'note').map((m) => [m.authorName, m.body])).toEqual([
      ['sam', 'Needs a call-taker who speaks Spanish'],
      ['alice', 'Two injured, one trapped; fire service already informed'],
    ]);
    expect(detail.messages[0]!.body).toBe('Car crash on the highway');
    // Alice handed it on: she is no longer in it (she was the owner, not a participant).
    expect(await api(gw, 'GET', path, { token: alice.token })).toMatchObject({ status: 403 });

    const trail = (await eventsOf(conversationId)).filter((e) => e.type === 'conversation.transferred' || e.type === 'conversation.taken_over');
    expect(trail.map((e) => [e.type, e.actor_id, e.data.fromName, e.data.toName ?? e.data.queueName ?? null])).toEqual([
      ['conversation.taken_over', sam.id, 'alice', null],
      ['conversation.transferred', sam.id, 'sam', queue.name],
      ['conversation.transferred', alice.id, 'alice', 'bob'],
    ]);
  });
  it("restores the previous owner's presence when a voice call is taken over or transferred", async () => {
    const presence = async () => (await gw.store.sql<Array<{ presence: string; presence_before_dnd: string | null }>>`
      select presence, presence_before_dnd from agents where id = ${alice.id}`)[0]!;
    /** Alice holds a voice conversation with its call in progress: the system set her do-not-disturb. */
    async function onACall(text: string): Promise<string> {
      const { conversationId } = await citizenConversation(text);
      const [c] = await gw.store.sql`update conversations set channel = 'voice' where id = ${conversationId} returning channel_link_id`;
      await gw.store.sql`insert into calls (call_sid, link_id, conversation_id, from_number, to_number, status)
        values (${`CA${randomUUID().replaceAll('-', '')}`}, ${c!.channel_link_id}, ${conversationId}, '+14155550100', '+14155550911', 'in-progress')`;
      await gw.store.sql`update agents set presence = 'dnd', presence_before_dnd = 'available' where id = ${alice.id}`;
      return conversationId;
    }
    const samSocket = await connectAgent(gw, sam.token);
    sockets.push(samSocket);
    // Alice is the only one taking new work.
    expect(await api(gw, 'PUT', '/api/agents/me/presence', { token: bob.token, body: { presence: 'away' } })).toMatchObject({ status: 200 });

    const first = await onACall('I can hear someone downstairs');
    const restored = nextEvent<{ id: string; presence: string }>(aliceSocket, 'presence:changed', (a) => a.id === alice.id && a.presence === 'available');
    await request(samSocket, 'conversation:takeover', { conversationId: first });
    await restored;
    expect(await presence()).toEqual({ presence: 'available', presence_before_dnd: null });
    expect((await eventsOf(first)).filter((e) => e.type === 'agent.presence_restored').map((e) => e.data)).toEqual([{ agentId: alice.id, presence: 'available' }]);

    const second = await onACall('The smoke alarm is going off');
    const [queue] = await gw.store.sql<Array<{ id: string }>>`select id from queues where is_default`;
    const restoredAgain = nextEvent<{ id: string; presence: string }>(aliceSocket, 'presence:changed', (a) => a.id === alice.id && a.presence === 'available');
    await request(aliceSocket, 'conversation:transfer', { conversationId: second, to: { queueId: queue!.id }, note: 'Needs a fire dispatcher', clientId: randomUUID() });
    await restoredAgain;
    expect(await presence()).toEqual({ presence: 'available', presence_before_dnd: null });
    expect((await eventsOf(second)).map((e) => e.type)).toContain('agent.presence_restored');
  });
});
