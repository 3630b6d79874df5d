/**
 * Administrator-managed links: the admin API (secrets write-only, settings
 * validated by the channel), and the lease that has exactly one process run
 * each link, handing it over when the holder stops or dies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createWebchatAdapter } from '../../adapters/webchat/index.ts';
import type { ChannelAdapter, LinkConfig, LinkRunner, LinkStatus } from '../../src/channel.ts';
import { parse } from '../../src/http/validate.ts';
import type { LinkStatusUpdate } from '../../src/realtime/events.ts';
import { ChannelSendError } from '../../src/errors.ts';
import { ADMIN_PASSWORD, api, connectAgent, createAgents, login, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { nextEvent, waitFor } from '../support/wait.ts';

/** A channel whose links only record where they run: the lease is what is under test. */
function recordingChannel(name: string) {
  const running = new Map<string, LinkConfig>();
  const states = new Map<string, LinkStatus['state']>();
  const starts: string[] = [];
  const sent: string[] = [];
  /** Every send call, including those refused because the link runs elsewhere. */
  const calls: string[] = [];
  const settings = z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535) });
  const runner: LinkRunner = {
    parse: (input) => ({ settings: parse(settings, input.settings, 'settings'), secrets: input.secrets as Record<string, string> }),
    async start(link) {
      running.set(link.id, link);
      starts.push(`${name}:${link.id}`);
    },
    async stop(id) {
      running.delete(id);
    },
    status: (id): LinkStatus | undefined =>
      running.has(id)
        ? { state: states.get(id) ?? 'up', since: new Date(0).toISOString(), lastError: states.get(id) === 'down' ? 'peer closed' : null, counters: { pdusIn: 7 } }
        : undefined,
  };
  const adapter: ChannelAdapter = {
    channel: 'sms',
    links: runner,
    start: async () => undefined,
    stop: async () => undefined,
    async send(message) {
      calls.push(message.text);
      if (!running.has(message.channelLinkId)) throw new ChannelSendError('link not running here', { retryable: true });
      sent.push(message.text);
      return { status: 'sent' };
    },
  };
  return { adapter, running, starts, states, sent, calls };
}

describe('channel links', () => {
  let a: TestGateway;
  let b: TestGateway;
  const ra = recordingChannel('a');
  const rb = recordingChannel('b');
  let admin: string;

  beforeAll(async () => {
    a = await startTestGateway({ LINK_LEASE_MS: '600' }, { adapters: [createWebchatAdapter(), ra.adapter] });
    b = await startTestGateway({ LINK_LEASE_MS: '600', QUEUE_PREFIX: a.config.queuePrefix }, { adapters: [createWebchatAdapter(), rb.adapter], database: a.database });
    admin = await login(a, 'admin', ADMIN_PASSWORD);
  });
  afterAll(async () => {
    await b?.stop();
    await a?.destroy();
  });

  const runners = (id: string) => [ra.running.has(id), rb.running.has(id)].filter(Boolean).length;

  it('validates settings with the channel schema and never returns secrets', async () => {
    const bad = await api<{ error: { field: string } }>(a, 'POST', '/api/links', {
      token: admin,
      body: { channel: 'sms', name: 'bad', settings: { host: 'smsc', port: 99999 } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('port');
    const unknownChannel = await api<{ error: { field: string } }>(a, 'POST', '/api/links', { token: admin, body: { channel: 'email', name: 'x' } });
    expect(unknownChannel.status).toBe(400);
    expect(unknownChannel.body.error.field).toBe('channel');

    const created = await api<{ link: Record<string, unknown> }>(a, 'POST', '/api/links', {
      token: admin,
      body: { channel: 'sms', name: 'carrier-1', settings: { host: 'smsc.example', port: 2775 }, secrets: { password: 's3cret' } },
    });
    expect(created.status).toBe(201);
    expect(JSON.stringify(created.body)).not.toContain('s3cret');
    expect(created.body.link).toMatchObject({ name: 'carrier-1', secretsSet: ['password'], enabled: true });
    const listed = await api(a, 'GET', '/api/links', { token: admin });
    expect(JSON.stringify(listed.body)).not.toContain('s3cret');
  });

  it('runs each link in exactly one process, shows its status, and restarts it when changed', async () => {
    const { body } = await api<{ link: { id: string } }>(a, 'POST', '/api/links', {
      token: admin,
      body: { channel: 'sms', name: 'carrier-2', settings: { host: 'smsc2', port: 2775 } },
    });
    const id = body.link.id;
    await waitFor('the link running somewhere', () => runners(id) === 1);
    const shown = await waitFor('its status published', async () => {
      const res = await api<{ link: { runner: { status: { state: string; counters: { pdusIn: number } } } | null } }>(a, 'GET', `/api/links/${id}`, { token: admin });
      return res.body.link.runner?.status.state === 'up' ? res.body.link.runner : undefined;
    });
    expect(shown.status.counters.pdusIn).toBe(7);

    const before = ra.starts.length + rb.starts.length;
    const changed = await api(a, 'PATCH', `/api/links/${id}`, { token: admin, body: { settings: { host: 'smsc2-new', port: 2776 } } });
    expect(changed.status).toBe(200);
    await waitFor('a restart with the new settings', () =>
      [...ra.running.values(), ...rb.running.values()].some((l) => l.id === id && l.settings.host === 'smsc2-new'),
    );
    expect(ra.starts.length + rb.starts.length).toBe(before + 1);
    expect(runners(id)).toBe(1);

    expect((await api(a, 'POST', `/api/links/${id}/stop`, { token: admin })).status).toBe(200);
    await waitFor('the link stopped everywhere', () => runners(id) === 0);
    expect((await api(a, 'POST', `/api/links/${id}/start`, { token: admin })).status).toBe(200);
    await waitFor('the link running again', () => runners(id) === 1);
    expect((await api(a, 'DELETE', `/api/links/${id}`, { token: admin })).status).toBe(204);
    await waitFor('a deleted link stopped', () => runners(id) === 0);
    expect((await api(a, 'GET', `/api/links/${id}`, { token: admin })).status).toBe(404);
  });

  it('alerts supervisors when a link goes down and comes back, and shows link state in /metrics', async () => {
    const { body } = await api<{ link: { id: string } }>(a, 'POST', '/api/links', {
      token: admin,
      body: { channel: 'sms', name: 'carrier-4', settings: { host: 'smsc4', port: 2775 } },
    });
    const id = body.link.id;
    await waitFor('the link running', () => runners(id) === 1);
    const holderGateway = ra.running.has(id) ? a : b;
    const states = ra.running.has(id) ? ra.states : rb.states;
    const supervisor = await connectAgent(holderGateway, await login(holderGateway, 'admin', ADMIN_PASSWORD));
    await waitFor('metrics showing the link up', async () => (await (await fetch(`${a.url}/metrics`)).text()).includes('lifeline_link_up{link="carrier-4",channel="sms"} 1'));
    expect(await (await fetch(`${a.url}/metrics`)).text()).toContain('lifeline_link_counter{link="carrier-4",counter="pdusIn"} 7');

    const down = nextEvent<LinkStatusUpdate>(supervisor, 'link:status', (u) => u.linkId === id && u.state === 'down');
    states.set(id, 'down');
    expect(await down).toMatchObject({ name: 'carrier-4', channel: 'sms', lastError: 'peer closed' });
    await waitFor('metrics showing the link down', async () => (await (await fetch(`${b.url}/metrics`)).text()).includes('lifeline_link_up{link="carrier-4",channel="sms"} 0'));
    const up = nextEvent<LinkStatusUpdate>(supervisor, 'link:status', (u) => u.linkId === id && u.state === 'up');
    states.set(id, 'up');
    await up;
    const audit = await waitFor('both changes in the audit trail', async () => {
      const rows = await a.store.sql`select type from events where type like 'link.%' and data->>'linkId' = ${id} order by id`;
      return rows.length >= 2 ? rows : undefined;
    });
    expect(audit.map((e) => e.type)).toEqual(['link.down', 'link.up']);
    supervisor.disconnect();
  });

  it('sends every reply from the process that runs the link, whichever process takes the job', async () => {
    const { body } = await api<{ link: { id: string } }>(a, 'POST', '/api/links', {
      token: admin,
      body: { channel: 'sms', name: 'carrier-5', settings: { host: 'smsc5', port: 2775 } },
    });
    const id = body.link.id;
    await waitFor('the link running', () => runners(id) === 1);
    const holder = ra.running.has(id) ? ra : rb;
    const other = holder === ra ? rb : ra;
    const [agent] = await createAgents(a, [{ username: 'replier', capacity: 10 }]);
    const put = await api(a, 'PUT', '/api/agents/me/presence', { token: agent!.token, body: { presence: 'available' } });
    expect(put.status).toBe(200);
    const inbound = await a.receive({ channel: 'sms', channelLinkId: id, from: '+15550001111', channelMessageId: 'mo-1', text: 'help', receivedAt: new Date() });
    await waitFor('the offer', async () => {
      const [c] = await a.store.sql`select status from conversations where id = ${inbound.conversationId}`;
      return c!.status === 'offered';
    });
    expect((await api(b, 'POST', `/api/conversations/${inbound.conversationId}/accept`, { token: agent!.token })).status).toBe(200);
    const texts = Array.from({ length: 8 }, (_, i) => `reply ${i}`);
    for (const [i, text] of texts.entries()) {
      const via = i % 2 === 0 ? a : b;
      expect((await api(via, 'POST', `/api/conversations/${inbound.conversationId}/messages`, { token: agent!.token, body: { text, clientId: `r${i}` } })).status).toBe(201);
    }
    await waitFor('every reply sent', () => texts.every((t) => holder.sent.includes(t)), 15_000);
    // No attempt ever reached the process without the link: the jobs went to the link's own queue.
    expect(other.calls.filter((t) => texts.includes(t))).toEqual([]);
    expect(holder.calls.filter((t) => texts.includes(t)).sort()).toEqual([...texts].sort());
    await waitFor('every reply recorded as sent', async () => {
      const rows = await a.store.sql`select count(*)::int as n from messages where conversation_id = ${inbound.conversationId} and direction = 'outbound' and delivery_status = 'sent'`;
      return rows[0]!.n === texts.length;
    });
  });

  it('hands a link over when its holder dies without releasing the lease', async () => {
    const { body } = await api<{ link: { id: string } }>(a, 'POST', '/api/links', {
      token: admin,
      body: { channel: 'sms', name: 'carrier-3', settings: { host: 'smsc3', port: 2775 }, enabled: false },
    });
    const id = body.link.id;
    // A process that died holding the lease: its row stays until it expires.
    await a.store.sql`insert into link_leases (link_id, holder, expires_at) values (${id}, 'dead-host:1', now() + interval '1500 milliseconds')`;
    await api(a, 'POST', `/api/links/${id}/start`, { token: admin });
    const started = Date.now();
    await waitFor('a live process to take the link over', () => runners(id) === 1, 10_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    const [lease] = await a.store.sql`select holder from link_leases where link_id = ${id}`;
    expect([a.links?.holder, b.links?.holder]).toContain(lease!.holder);
  });
});
