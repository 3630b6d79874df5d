/**
 * Queue and agent settings through the admin API against a real gateway:
 * every queue setting is created, changed (PATCH changes only what it names),
 * listed and used (opening hours and the bounce-back text set here turn a
 * citizen away); bad values are refused naming the field; agents' e-mail and
 * phone are set and returned, never the password hash.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CitizenMessageView } from '../../src/realtime/events.ts';
import { ADMIN_PASSWORD, api, connectCitizen, createAgents, login, request, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { nextEvent, waitFor } from '../support/wait.ts';

type Queue = Record<string, unknown> & { id: string; name: string; isDefault: boolean };
type ErrorBody = { error: { code: string; field?: string; message: string } };

describe('admin settings', () => {
  let gw: TestGateway;
  let admin: string;
  beforeAll(async () => {
    gw = await startTestGateway();
    admin = await login(gw, 'admin', ADMIN_PASSWORD);
  });
  afterAll(async () => {
    await gw?.destroy();
  });

  const SETTINGS = {
    answerTargetSeconds: 40,
    offerTimeoutSeconds: 20,
    maxWaiting: 25,
    callbackWindowMinutes: 7.5,
    inactivityMinutes: 12.5,
    missedOffersBeforeAway: 4,
    openingHours: { timeZone: 'America/Chicago', days: { mon: [['08:00', '20:00']], sat: [['22:00', '02:00']], sun: [] } },
    bounceBackText: 'Texts are not taken now. Call 911.',
    escalationText: 'Still connecting you. Call 911 if you can.',
    acknowledgementText: 'A call-taker is with you.',
    inactivityText: 'Closed: no new messages.',
    emergencyContactTemplate: 'Emergency ({{agent}}): {{summary}} {{link}}',
  };

  it('creates, changes and lists every queue setting', async () => {
    const created = await api<{ queue: Queue }>(gw, 'POST', '/api/queues', { token: admin, body: { name: 'Spanish', ...SETTINGS } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.queue).toMatchObject({ name: 'Spanish', ...SETTINGS });
    const [row] = await gw.store.sql`select inactivity_minutes, opening_hours, emergency_contact_template from queues where id = ${created.body.queue.id}`;
    expect(row).toEqual({ inactivity_minutes: 12.5, opening_hours: SETTINGS.openingHours, emergency_contact_template: SETTINGS.emergencyContactTemplate });

    // Settings not given keep the store's defaults.
    const plain = await api<{ queue: Queue }>(gw, 'POST', '/api/queues', { token: admin, body: { name: 'Plain' } });
    expect(plain.status).toBe(201);
    expect(plain.body.queue).toMatchObject({ answerTargetSeconds: 50, inactivityMinutes: 30, openingHours: null, acknowledgementText: expect.stringMatching(/^A 911 call-taker/) });

    // PATCH changes only what it names; null opening hours is "always open".
    const patched = await api<{ queue: Queue }>(gw, 'PATCH', `/api/queues/${created.body.queue.id}`, {
      token: admin,
      body: { offerTimeoutSeconds: 45, openingHours: null, escalationText: 'Hold on.' },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.queue).toMatchObject({ ...SETTINGS, offerTimeoutSeconds: 45, openingHours: null, escalationText: 'Hold on.' });
    const [agent] = await createAgents(gw, [{ username: 'lister' }]);
    const listed = await api<{ queues: Queue[] }>(gw, 'GET', '/api/queues', { token: agent!.token });
    expect(listed.body.queues.find((q) => q.id === created.body.queue.id)).toMatchObject({ offerTimeoutSeconds: 45, callbackWindowMinutes: 7.5, missedOffersBeforeAway: 4 });

    expect(await api(gw, 'PATCH', `/api/queues/${randomUUID()}`, { token: admin, body: { maxWaiting: 3 } })).toMatchObject({ status: 404 });
    expect(await api<ErrorBody>(gw, 'PATCH', `/api/queues/${plain.body.queue.id}`, { token: admin, body: { name: 'Spanish' } })).toMatchObject({
      status: 409,
      body: { error: { code: 'name_taken' } },
    });
    expect(await api(gw, 'PATCH', `/api/queues/${plain.body.queue.id}`, { token: agent!.token, body: { maxWaiting: 3 } })).toMatchObject({ status: 403 });
  });

  it.each([
    ['answerTargetSeconds', { answerTargetSeconds: 2 }],
    ['offerTimeoutSeconds', { offerTimeoutSeconds: 1.5 }],
    ['callbackWindowMinutes', { callbackWindowMinutes: -1 }],
    ['inactivityMinutes', { inactivityMinutes: 0 }],
    ['missedOffersBeforeAway', { missedOffersBeforeAway: 0 }],
    ['bounceBackText', { bounceBackText: '   ' }],
    ['escalationText', { escalationText: 'x'.repeat(1001) }],
    ['emergencyContactTemplate', { emergencyContactTemplate: '' }],
    ['openingHours.timeZone', { openingHours: { timeZone: 'Mars/Olympus_Mons', days: {} } }],
    ['openingHours.days', { openingHours: { timeZone: 'Europe/Paris', days: { funday: [] } } }],
    ['openingHours.days.mon.0.1', { openingHours: { timeZone: 'Europe/Paris', days: { mon: [['08:00', '8pm']] } } }],
    ['openingHours.days.tue.1', { openingHours: { timeZone: 'Europe/Paris', days: { tue: [['08:00', '12:00'], ['13:00', '13:00']] } } }],
    ['openingHours.days.wed.0', { openingHours: { timeZone: 'Europe/Paris', days: { wed: [['08:00']] } } }],
  ])('refuses a bad %s, naming it', async (field, body) => {
    const [queue] = await gw.store.sql`select id from queues where is_default`;
    const res = await api<ErrorBody>(gw, 'PATCH', `/api/queues/${queue!.id}`, { token: admin, body });
    expect(res.status).toBe(400);
    expect(res.body.error.field).toBe(field);
    const create = await api<ErrorBody>(gw, 'POST', '/api/queues', { token: admin, body: { name: `bad-${field}`, ...body } });
    expect(create).toMatchObject({ status: 400, body: { error: { field } } });
  });

  it('turns citizens away with the queue settings set through the API', async () => {
    const [queue] = await gw.store.sql`select id from queues where is_default`;
    // Always closed (no day has hours), with its own bounce-back text.
    const res = await api(gw, 'PATCH', `/api/queues/${queue!.id}`, {
      token: admin,
      body: { openingHours: { timeZone: 'Pacific/Auckland', days: {} }, bounceBackText: 'Closed for texts. Call 911.' },
    });
    expect(res.status).toBe(200);
    const citizen = await connectCitizen(gw);
    await request(citizen, 'session:start', {});
    const bounced = nextEvent<CitizenMessageView>(citizen, 'message:new', (m) => m.direction === 'system');
    const { conversationId } = await request<{ conversationId: string }>(citizen, 'message:send', { clientId: randomUUID(), text: 'is anyone there' });
    expect((await bounced).body).toBe('Closed for texts. Call 911.');
    // The audit event is written just after the bounce-back text, which may reach the citizen first.
    const event = await waitFor('the bounce_back.sent event', async () => {
      const [row] = await gw.store.sql`select data from events where conversation_id = ${conversationId} and type = 'bounce_back.sent'`;
      return row;
    });
    expect((event.data as { cause: string }).cause).toBe('closed');
    await api(gw, 'PATCH', `/api/queues/${queue!.id}`, { token: admin, body: { openingHours: null } });
    citizen.disconnect();
  });

  it("sets agents' e-mail and phone, changes only what a PATCH names, and never returns the password hash", async () => {
    const created = await api<{ agent: Record<string, unknown> & { id: string } }>(gw, 'POST', '/api/agents', {
      token: admin,
      body: { username: 'sup', displayName: 'Sup', password: 'sup-password-123', role: 'supervisor', capacity: 5, skills: ['es'], email: 'sup@psap.test', phone: '+1 415 555 0101' },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.agent).toMatchObject({ role: 'supervisor', capacity: 5, email: 'sup@psap.test', phone: '+1 415 555 0101', skills: ['es'] });
    const id = created.body.agent.id;

    const patched = await api<{ agent: Record<string, unknown> }>(gw, 'PATCH', `/api/agents/${id}`, { token: admin, body: { email: 'duty@psap.test' } });
    expect(patched.status).toBe(200);
    // Role, capacity and skills kept: a PATCH naming only the e-mail changes only the e-mail.
    expect(patched.body.agent).toMatchObject({ role: 'supervisor', capacity: 5, skills: ['es'], email: 'duty@psap.test', phone: '+1 415 555 0101' });
    const cleared = await api<{ agent: Record<string, unknown> }>(gw, 'PATCH', `/api/agents/${id}`, { token: admin, body: { phone: null } });
    expect(cleared.body.agent).toMatchObject({ email: 'duty@psap.test', phone: null });
    const [row] = await gw.store.sql`select role, capacity, email, phone from agents where id = ${id}`;
    expect(row).toEqual({ role: 'supervisor', capacity: 5, email: 'duty@psap.test', phone: null });

    expect(await api<ErrorBody>(gw, 'PATCH', `/api/agents/${id}`, { token: admin, body: { email: 'not an address' } })).toMatchObject({
      status: 400,
      body: { error: { field: 'email' } },
    });
    expect(await api<ErrorBody>(gw, 'PATCH', `/api/agents/${id}`, { token: admin, body: { phone: 'call me' } })).toMatchObject({
      status: 400,
      body: { error: { field: 'phone' } },
    });

    const list = await api<{ agents: Array<Record<string, unknown>> }>(gw, 'GET', '/api/agents', { token: admin });
    expect(list.body.agents.find((a) => a.id === id)).toMatchObject({ email: 'duty@psap.test', phone: null });
    const [hash] = await gw.store.sql`select password_hash from agents where id = ${id}`;
    for (const body of [created.body, patched.body, list.body]) {
      expect(JSON.stringify(body)).not.toMatch(/passwordHash|password_hash/);
      expect(JSON.stringify(body)).not.toContain(hash!.password_hash as string);
    }
  });
});
