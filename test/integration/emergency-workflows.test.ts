/**
 * The emergency workflows against a real gateway (PostgreSQL, Redis, workers)
 * and a real SMPP peer: text-from-911 to a number reaches the SMSC; canned
 * replies CRUD; location history with an agent-confirmed location never
 * replaced automatically; an agent outside a
 * confidential conversation gets 403 with a JSON body on its content; the
 * report keeps its metadata but no bodies; the retention sweeper purges a
 * back-dated closed conversation's content (bodies, attachments, blobs,
 * locations) and keeps a recent one and the audit trail.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConversationView } from '../../src/realtime/events.ts';
import type { LocationView, MessageView } from '../../src/realtime/events.ts';
import { putAttachments } from '../../src/store/attachments.ts';
import { recordLocation } from '../../src/store/locations.ts';
import { ADMIN_PASSWORD, api, connectAgent, createAgents, login, startTestGateway, type AgentSocket, type TestGateway } from '../support/gateway.ts';
import { FakeSmsc } from '../support/smsc.ts';
import { nextEvent, waitFor } from '../support/wait.ts';

describe('confidential conversations, reports and retention', () => {
  let gw: TestGateway;
  let alice: { id: string; token: string };
  let bob: { id: string; token: string };
  let sue: { id: string; token: string };
  let aliceSocket: AgentSocket;
  let smsc: FakeSmsc;
  let linkId: string;
  let admin: string;
  let numbers = 5550100;
  const sockets: Array<{ disconnect(): unknown }> = [];

  /** alice texts a new number from 911: an active conversation of hers. */
  async function openChat(text: string): Promise<string> {
    const res = await api<{ conversation: ConversationView; message: MessageView }>(gw, 'POST', '/api/conversations/outbound', {
      token: alice.token,
      body: { linkId, address: `+1 (415) ${numbers++}`, text },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.conversation.id;
  }

  beforeAll(async () => {
    // Short sweeps so the test waits for the purge rather than calling it; retention 2 days (confidential 1).
    gw = await startTestGateway({ RETENTION_DAYS: '2', CONFIDENTIAL_RETENTION_DAYS: '1', RETENTION_SWEEP_INTERVAL_MS: '200' });
    [alice, bob, sue] = (await createAgents(gw, [
      { username: 'alice', capacity: 10 },
      { username: 'bob' },
      { username: 'sue', role: 'supervisor' },
    ])) as unknown as [typeof alice, typeof bob, typeof sue];
    aliceSocket = await connectAgent(gw, alice.token);
    sockets.push(aliceSocket);
    admin = await login(gw, 'admin', ADMIN_PASSWORD);
    smsc = await FakeSmsc.start({ systemId: 'psap', password: 'secret' });
    const link = await api<{ link: { id: string } }>(gw, 'POST', '/api/links', {
      token: admin,
      body: {
        channel: 'sms',
        name: 'carrier',
        settings: { mode: 'client', host: '127.0.0.1', port: smsc.port, systemId: 'psap', sourceAddr: '911', reconnectMinMs: 50, reconnectMaxMs: 300 },
        secrets: { password: 'secret' },
      },
    });
    expect(link.status).toBe(201);
    linkId = link.body.link.id;
  });
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await gw?.destroy();
    await smsc?.stop();
  });

  it('texts a number from 911: the phone contact, a conversation of the agent, the text at the SMSC', async () => {
    const text = `This is 911. We received a silent call from this number. Are you safe? ${randomUUID().slice(0, 8)}`;
    const res = await api<{ conversation: ConversationView; message: MessageView }>(gw, 'POST', '/api/conversations/outbound', {
      token: alice.token,
      body: { linkId, address: '+1 (415) 555-0199', text },
    });
    expect(res.status).toBe(201);
    expect(res.body.conversation).toMatchObject({ channel: 'sms', status: 'active', agentId: alice.id, contact: { phone: '+14155550199' } });
    expect(res.body.message).toMatchObject({ direction: 'outbound', body: text });
    const submit = await waitFor('the text at the SMSC', () => smsc.submits.find((s) => s.status === 0 && s.text === text), 15_000);
    expect(submit.destinationAddr).toBe('14155550199');
    await waitFor('the message sent', async () => {
      const [m] = await gw.store.sql<Array<{ delivery_status: string }>>`select delivery_status from messages where id = ${res.body.message.id}`;
      return m!.delivery_status === 'sent' || m!.delivery_status === 'delivered';
    });
    // The same number again (other punctuation) continues the agent's open conversation.
    const again = await api<{ conversation: ConversationView }>(gw, 'POST', '/api/conversations/outbound', {
      token: alice.token,
      body: { linkId, address: '+14155550199', text: 'Reply YES if you are safe.' },
    });
    expect(again.status).toBe(201);
    expect(again.body.conversation.id).toBe(res.body.conversation.id);
    // Another agent cannot start over it.
    const clash = await api<{ error: { code: string } }>(gw, 'POST', '/api/conversations/outbound', {
      token: bob.token,
      body: { linkId, address: '+1 415 555 0199', text: 'hello' },
    });
    expect(clash.status).toBe(409);
    expect(clash.body.error.code).toBe('conversation_open');
    const [load] = await gw.store.sql<Array<{ load: number }>>`select load from agents where id = ${alice.id}`;
    expect(load!.load).toBe(1);
  });

  it('canned replies: admins create, change and delete them; agents list them per language', async () => {
    const create = (body: Record<string, unknown>, token = admin) => api<{ cannedReply: { id: string } }>(gw, 'POST', '/api/canned-replies', { token, body });
    expect((await create({ title: 'x', body: 'y' }, alice.token)).status).toBe(403);
    const safe = await create({ language: 'en', title: 'Are you safe?', body: 'Are you safe to text right now?', position: 1 });
    const where = await create({ language: 'en', title: 'Where', body: 'Where are you? Street and number.', position: 0 });
    const es = await create({ language: 'es', title: 'Seguro', body: '¿Está a salvo?' });
    expect([safe.status, where.status, es.status]).toEqual([201, 201, 201]);
    expect((await create({ title: '', body: 'x' })).status).toBe(400);
    const en = await api<{ cannedReplies: Array<{ title: string }> }>(gw, 'GET', '/api/canned-replies?language=en', { token: alice.token });
    expect(en.body.cannedReplies.map((c) => c.title)).toEqual(['Where', 'Are you safe?']);
    const patched = await api<{ cannedReply: { body: string } }>(gw, 'PATCH', `/api/canned-replies/${safe.body.cannedReply.id}`, {
      token: admin,
      body: { body: 'Are you safe? Answer YES or NO.' },
    });
    expect(patched.body.cannedReply.body).toBe('Are you safe? Answer YES or NO.');
    expect((await api(gw, 'DELETE', `/api/canned-replies/${es.body.cannedReply.id}`, { token: alice.token })).status).toBe(403);
    expect((await api(gw, 'DELETE', `/api/canned-replies/${es.body.cannedReply.id}`, { token: admin })).status).toBe(204);
    expect((await api(gw, 'DELETE', `/api/canned-replies/${es.body.cannedReply.id}`, { token: admin })).status).toBe(404);
    const all = await api<{ cannedReplies: Array<{ language: string }> }>(gw, 'GET', '/api/canned-replies', { token: alice.token });
    expect(all.body.cannedReplies.map((c) => c.language)).toEqual(['en', 'en']);
  });

  it('keeps location history; an agent-confirmed location is not replaced by a later automatic one', async () => {
    const id = await openChat('Where are you?');
    const history = () => api<{ locations: LocationView[] }>(gw, 'GET', `/api/conversations/${id}/locations`, { token: alice.token });
    const current = async () => (await gw.store.sql<Array<{ location: { latitude: number; source: string } | null }>>`select location from conversations where id = ${id}`)[0]!.location;
    const pushed = nextEvent<{ conversationId: string; locations: LocationView[] }>(aliceSocket, 'location:updated', (u) => u.conversationId === id);
    // A carrier position first: automatic, it becomes current while nothing is confirmed.
    await recordLocation(gw.store.db, { conversationId: id, source: 'carrier', latitude: 40.0, longitude: -74.5, uncertaintyMeters: 800, at: new Date() });
    expect(await current()).toMatchObject({ latitude: 40, source: 'carrier' });
    const typed = await api<{ locations: LocationView[] }>(gw, 'POST', `/api/conversations/${id}/locations`, {
      token: alice.token,
      body: { latitude: 40.7128, longitude: -74.006, uncertaintyMeters: 30 },
    });
    expect(typed.status).toBe(201);
    expect((await pushed).locations).toHaveLength(2);
    expect(await current()).toMatchObject({ latitude: 40.7128, source: 'agent' });
    // A later automatic position: into the history, not current.
    await recordLocation(gw.store.db, { conversationId: id, source: 'carrier', latitude: 41.0, longitude: -73.0, at: new Date() });
    const after = (await history()).body.locations;
    expect(after.map((l) => [l.source, l.confirmed, l.current])).toEqual([
      ['carrier', false, false],
      ['agent', true, true],
      ['carrier', false, false],
    ]);
    expect(await current()).toMatchObject({ latitude: 40.7128, source: 'agent' });
    // The agent confirms the carrier's: now it is current and confirmed.
    const confirmed = await api<{ locations: LocationView[] }>(gw, 'POST', `/api/conversations/${id}/locations/${after[2]!.id}/confirm`, { token: alice.token, body: {} });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.locations.find((l) => l.current)).toMatchObject({ source: 'carrier', confirmed: true, latitude: 41 });
    expect(await current()).toMatchObject({ latitude: 41, source: 'carrier' });
    // bob, not in the conversation, cannot read or add.
    expect((await api(gw, 'GET', `/api/conversations/${id}/locations`, { token: bob.token })).status).toBe(403);
  });

  it('keeps a confidential conversation from agents outside it, and its bodies out of reports', async () => {
    const secret = `domestic violence, code ${randomUUID()}`;
    const open = `a tree fell on the road ${randomUUID()}`;
    const confidentialId = await openChat(secret);
    const plainId = await openChat(open);

    // bob is not in it: refused before (not his) and after; the flag itself is set by the holder.
    const marked = await api<{ conversation: ConversationView }>(gw, 'POST', `/api/conversations/${confidentialId}/confidential`, {
      token: alice.token,
      body: { confidential: true },
    });
    expect(marked.status).toBe(200);
    expect(marked.body.conversation.confidential).toBe(true);
    // Only a supervisor lifts it.
    const lift = await api(gw, 'POST', `/api/conversations/${confidentialId}/confidential`, { token: alice.token, body: { confidential: false } });
    expect(lift.status).toBe(403);

    // bob joins as a participant who has left: still not "in it".
    await gw.store.sql`insert into conversation_participants (conversation_id, agent_id, left_at) values (${confidentialId}, ${bob.id}, now())`;
    for (const path of [`/api/conversations/${confidentialId}`, `/api/conversations/${confidentialId}/messages`, `/api/conversations/${confidentialId}/locations`]) {
      const res = await api<{ error: { code: string; message: string } }>(gw, 'GET', path, { token: bob.token });
      expect(res.status, path).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
      expect(JSON.stringify(res.body)).not.toContain('domestic');
    }
    // The holder and a supervisor see it.
    expect((await api(gw, 'GET', `/api/conversations/${confidentialId}`, { token: alice.token })).status).toBe(200);
    const supervisorView = await api<{ messages: Array<{ body: string }> }>(gw, 'GET', `/api/conversations/${confidentialId}`, { token: sue.token });
    expect(supervisorView.body.messages.map((m) => m.body)).toContain(secret);

    // The report: supervisors only; metadata for both, bodies only for the plain one.
    expect((await api(gw, 'GET', '/api/reports/conversations', { token: bob.token })).status).toBe(403);
    const from = new Date(Date.now() - 3600_000).toISOString();
    const to = new Date(Date.now() + 3600_000).toISOString();
    const report = await api<{ conversations: Array<Record<string, unknown> & { id: string; messages?: Array<{ body: string }> }> }>(
      gw,
      'GET',
      `/api/reports/conversations?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`,
      { token: sue.token },
    );
    expect(report.status).toBe(200);
    const rows = new Map(report.body.conversations.map((c) => [c.id, c]));
    const conf = rows.get(confidentialId);
    const plain = rows.get(plainId);
    expect(conf).toMatchObject({ channel: 'sms', status: 'active', confidential: true, queue: expect.any(String), agent: expect.objectContaining({ username: 'alice' }) });
    expect(conf?.messageCounts).toMatchObject({ outbound: 1, total: 1 });
    expect(conf?.messages).toBeUndefined();
    expect(JSON.stringify(report.body)).not.toContain(secret);
    expect(plain?.messages?.map((m) => m.body)).toContain(open);
  });

  it('purges the content of a back-dated closed conversation and keeps a recent one and the audit trail', async () => {
    const oldId = await openChat('old emergency with a photo');
    const recentId = await openChat('recent emergency');
    const photo = Buffer.from(`photo-${randomUUID()}`);
    const [attachment] = await putAttachments(gw.store.db, [{ name: 'p.png', contentType: 'image/png', content: photo }]);
    const [message] = await gw.store.sql<Array<{ id: string }>>`select id from messages where conversation_id = ${oldId} order by id limit 1`;
    await gw.store.sql`update messages set attachments = ${JSON.stringify([attachment!])}::jsonb where id = ${message!.id}`;
    await api(gw, 'POST', `/api/conversations/${oldId}/locations`, { token: alice.token, body: { latitude: 45.1, longitude: 7.6 } });
    await api(gw, 'POST', `/api/conversations/${recentId}/locations`, { token: alice.token, body: { latitude: 45.2, longitude: 7.7 } });
    for (const id of [oldId, recentId]) {
      expect((await api(gw, 'POST', `/api/conversations/${id}/resolve`, { token: alice.token, body: { resolution: 'handled' } })).status).toBe(200);
    }
    // The old one closed three days ago (retention 2 days); the recent one just now.
    await gw.store.sql`update conversations set resolved_at = now() - interval '3 days' where id = ${oldId}`;

    await waitFor('the old conversation purged', async () => {
      const [row] = await gw.store.sql<Array<{ n: number }>>`
        select count(*)::int as n from messages where conversation_id = ${oldId} and purged_at is null`;
      return row!.n === 0;
    }, 10_000);
    const old = await gw.store.sql<Array<{ body: string; attachments: unknown[]; purged_at: Date | null }>>`
      select body, attachments, purged_at from messages where conversation_id = ${oldId}`;
    expect(old.length).toBeGreaterThan(0);
    for (const m of old) {
      expect(m.body).toBe('');
      expect(m.attachments).toEqual([]);
      expect(m.purged_at).not.toBeNull();
    }
    expect(await gw.store.sql`select 1 from attachment_blobs where sha256 = ${attachment!.sha256!}`).toHaveLength(0);
    expect(await gw.store.sql`select 1 from locations where conversation_id = ${oldId}`).toHaveLength(0);
    const [oldConv] = await gw.store.sql<Array<{ location: unknown; status: string }>>`select location, status from conversations where id = ${oldId}`;
    expect(oldConv).toEqual({ location: null, status: 'resolved' });
    // The audit trail stays, with the purge recorded.
    const events = await gw.store.sql<Array<{ type: string }>>`select type from events where conversation_id = ${oldId} order by id`;
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['conversation.opened', 'location.updated', 'retention.purged']));

    // The recent one is untouched: its body, its location.
    const recent = await gw.store.sql<Array<{ body: string; purged_at: Date | null }>>`
      select body, purged_at from messages where conversation_id = ${recentId} and direction = 'outbound'`;
    expect(recent).toEqual([{ body: 'recent emergency', purged_at: null }]);
    expect(await gw.store.sql`select 1 from locations where conversation_id = ${recentId}`).toHaveLength(1);
  });
});
