/**
 * Reporting against a real gateway (PostgreSQL, Redis, workers): on
 * conversations seeded with controlled timestamps, every figure of
 * `/api/reports/summary` equals the figure computed here in SQL over the raw
 * tables (and, overall, the figures worked out by hand); the CSV export reads
 * back with a strict RFC 4180 reader, one row per conversation in range, no
 * content, formula-like cells neutralised; the `lifeline_reporting` role
 * selects the views and nothing else (42501 on tables and on any write); a
 * fresh database migrates with the role already in the cluster; /metrics
 * counts messages in and out per channel, answer times and waiting
 * conversations per queue after a known set of messages.
 */
import { randomUUID } from 'node:crypto';
import type postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdapters } from '../../adapters/index.ts';
import type { ChannelAdapter, OutboundMessage } from '../../src/channel.ts';
import { AppError } from '../../src/errors.ts';
import { createLogger } from '../../src/log.ts';
import { migrateStore, openStore } from '../../src/store/db.ts';
import { REPORT_CONVERSATION_COLUMNS, reportConversationPages } from '../../src/store/report-views.ts';
import { csvObjects, parseCsv } from '../support/csv.ts';
import { createTestDatabase } from '../support/db.ts';
import { api, createAgents, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { waitFor } from '../support/wait.ts';

/** A Slack stand-in at the wire: a text containing FAIL is refused for good, anything else is sent. */
function fakeSlack(): ChannelAdapter & { sent: OutboundMessage[] } {
  const sent: OutboundMessage[] = [];
  return {
    channel: 'slack',
    sent,
    async start() {},
    async stop() {},
    async send(message) {
      if (message.text.includes('FAIL')) throw new AppError('rejected', 'channel refused the message', { retryable: false });
      sent.push(message);
      return { status: 'sent' };
    },
  };
}

interface Seed {
  channel: string;
  queueId: string | null;
  agentId: string | null;
  /** ISO time with microseconds. */
  openedAt: string;
  /** Seconds after opening. */
  accept?: number;
  /** Seconds after the accept, or after opening when never accepted. */
  resolve?: number;
  resolution?: string;
  /** Seconds after opening. */
  escalate?: number;
  confidential?: boolean;
  messages?: Array<{ direction: 'inbound' | 'outbound' | 'system' | 'note'; body: string }>;
}

const SECRET = `confidential body ${randomUUID()}`;
const RANGE = { from: '2024-03-10T00:00:00.000Z', to: '2024-03-12T00:00:00.000Z' };
const at = (iso: string, seconds: number) => new Date(Date.parse(iso) + seconds * 1000).toISOString().replace('.000Z', '.000000Z');

describe('reports, reporting views and metrics', () => {
  let gw: TestGateway;
  let sql: postgres.Sql;
  let alice: { id: string; token: string };
  let bob: { id: string; token: string };
  let sue: { id: string; token: string };
  let linkId: string;
  let q1: string;
  let q2: string;
  const q2Name = '+Medical, "Urgent"';
  const ids: Record<string, string> = {};

  async function seed(s: Seed): Promise<string> {
    const [contact] = await sql<Array<{ id: string }>>`insert into contacts (channel, address) values ('slack', ${randomUUID()}) returning id`;
    const status = s.resolve !== undefined ? 'resolved' : s.accept !== undefined ? 'active' : 'queued';
    const acceptSeconds = s.accept ?? null;
    const resolveSeconds = s.resolve === undefined ? null : (s.accept ?? 0) + s.resolve;
    const [row] = await sql<Array<{ id: string }>>`
      insert into conversations (channel, channel_link_id, contact_id, status, queue_id, agent_id, opened_at, queued_at, last_message_at,
                                 first_offered_at, accepted_at, resolved_at, resolution, escalated_at, confidential)
      select ${s.channel}, ${linkId}, ${contact!.id}, ${status}, ${s.queueId}, ${s.agentId}, o, o, o,
             case when ${acceptSeconds}::float8 is null then null else o + interval '1 second' end,
             o + ${acceptSeconds}::float8 * interval '1 second',
             o + ${resolveSeconds}::float8 * interval '1 second',
             ${s.resolution ?? null},
             o + ${s.escalate ?? null}::float8 * interval '1 second',
             ${s.confidential ?? false}
        from (select ${s.openedAt}::timestamptz as o) t
      returning id`;
    for (const m of s.messages ?? []) {
      await sql`insert into messages (conversation_id, channel_link_id, direction, body, delivery_status)
                values (${row!.id}, ${linkId}, ${m.direction}, ${m.body}, ${m.direction === 'inbound' ? 'received' : 'sent'})`;
    }
    return row!.id;
  }

  beforeAll(async () => {
    gw = await startTestGateway({}, { adapters: [...createAdapters().filter((a) => a.channel !== 'slack'), fakeSlack()] });
    sql = gw.store.sql;
    [alice, bob, sue] = (await createAgents(gw, [{ username: 'alice' }, { username: 'bob' }, { username: 'sue', role: 'supervisor' }])) as unknown as [
      typeof alice,
      typeof bob,
      typeof sue,
    ];
    // Spreadsheet formula in a name an administrator typed: it must reach the CSV inert.
    await sql`update agents set display_name = '=cmd|calc' where id = ${bob.id}`;
    // Signed in but not available: nothing gets offered the seeded waiting conversations during the test.
    expect((await api(gw, 'PUT', '/api/agents/me/presence', { token: alice.token, body: { presence: 'away' } })).status).toBe(200);
    const [link] = await sql<Array<{ id: string }>>`insert into channel_links (channel, name) values ('slack', 'fake-slack') returning id`;
    linkId = link!.id;
    const [queue] = await sql<Array<{ id: string }>>`select id from queues where is_default`;
    q1 = queue!.id;
    const [medical] = await sql<Array<{ id: string }>>`insert into queues (name) values (${q2Name}) returning id`;
    q2 = medical!.id;

    const t0 = '2024-03-10T08:00:00.123456Z';
    const day2 = at(t0, 86_400);
    const seeds: Record<string, Seed> = {
      a: {
        channel: 'sms', queueId: q1, agentId: alice.id, openedAt: t0, accept: 10, resolve: 300, resolution: 'handled',
        messages: [
          { direction: 'inbound', body: 'help' }, { direction: 'inbound', body: 'still there?' },
          { direction: 'system', body: 'A call-taker has seen your message' }, { direction: 'outbound', body: 'we are here' },
          { direction: 'note', body: 'caller calm' },
        ],
      },
      b: { channel: 'sms', queueId: q1, agentId: alice.id, openedAt: at(t0, 3600), accept: 20, resolve: 600, resolution: 'handled', escalate: 15 },
      c: {
        channel: 'webchat', queueId: q2, agentId: bob.id, openedAt: at(t0, 7200), accept: 40, resolve: 100, resolution: 'false_alarm', confidential: true,
        messages: [{ direction: 'inbound', body: SECRET }, { direction: 'outbound', body: `re: ${SECRET}` }, { direction: 'note', body: `note: ${SECRET}` }],
      },
      // Closed without ever being accepted: abandoned, whatever the resolution says.
      d: { channel: 'webchat', queueId: q1, agentId: null, openedAt: at(t0, 7300), resolve: 50, resolution: 'duplicate', escalate: 45 },
      e: { channel: 'email', queueId: q2, agentId: bob.id, openedAt: at(day2, 100), accept: 5 },
      // Answered, then closed for inactivity: abandoned by its resolution.
      f: { channel: 'sms', queueId: q1, agentId: alice.id, openedAt: at(day2, 200), accept: 30, resolve: 200, resolution: 'timed_out' },
      g: { channel: 'sms', queueId: null, agentId: null, openedAt: at(day2, 300) },
      // Opened at the same microsecond as a: the export's keyset must keep both.
      h: { channel: 'webchat', queueId: q1, agentId: null, openedAt: t0 },
      // Out of range, one microsecond before and exactly at the (exclusive) end.
      before: { channel: 'sms', queueId: q1, agentId: alice.id, openedAt: '2024-03-09T23:59:59.999999Z', accept: 1, resolve: 1, resolution: 'handled' },
      after: { channel: 'voice', queueId: q1, agentId: alice.id, openedAt: '2024-03-12T00:00:00.000000Z', accept: 1 },
    };
    for (const [key, s] of Object.entries(seeds)) ids[key] = await seed(s);
  });
  afterAll(async () => {
    await gw?.destroy();
  });

  /** The summary's figures over the raw tables (not the views), per group. */
  async function rawFigures(group: 'all' | 'channel' | 'queue_id', where = sql``) {
    const key = group === 'all' ? sql`null::text` : sql`${sql(group)}::text`;
    const rows = await sql<Array<Record<string, unknown>>>`
      select ${key} as key,
             count(*)::int as conversations,
             count(*) filter (where accepted_at is not null)::int as answered,
             count(*) filter (where resolution in ('abandoned', 'timed_out') or status = 'abandoned' or (resolved_at is not null and accepted_at is null))::int as abandoned,
             count(*) filter (where escalated_at is not null)::int as escalated,
             avg(extract(epoch from accepted_at - opened_at))::float8 as avg_answer,
             percentile_cont(0.5) within group (order by extract(epoch from accepted_at - opened_at)::float8) as p50,
             percentile_cont(0.9) within group (order by extract(epoch from accepted_at - opened_at)::float8) as p90,
             avg(extract(epoch from resolved_at - accepted_at))::float8 as avg_handle
        from conversations
       where opened_at >= ${RANGE.from}::timestamptz and opened_at < ${RANGE.to}::timestamptz ${where}
       group by 1`;
    return new Map(
      rows.map((r) => [
        (r.key as string | null) ?? null,
        {
          conversations: r.conversations,
          answered: r.answered,
          abandoned: r.abandoned,
          escalated: r.escalated,
          averageAnswerSeconds: r.avg_answer,
          answerSecondsP50: r.p50,
          answerSecondsP90: r.p90,
          averageHandleSeconds: r.avg_handle,
        },
      ]),
    );
  }

  function expectSameFigures(actual: Record<string, unknown> | undefined, expected: Record<string, unknown> | undefined, what: string) {
    expect(actual, what).toBeDefined();
    expect(expected, what).toBeDefined();
    for (const [k, v] of Object.entries(expected!)) {
      if (typeof v === 'number') expect(actual![k], `${what} ${k}`).toBeCloseTo(v, 9);
      else expect(actual![k], `${what} ${k}`).toBe(v);
    }
  }

  type Figures = Record<string, unknown>;
  interface Summary {
    agentsSignedIn: number;
    overall: Figures;
    byChannel: Array<Figures & { channel: string }>;
    byQueue: Array<Figures & { queueId: string | null; queueName: string | null }>;
  }
  const summary = (query: string) => api<Summary>(gw, 'GET', `/api/reports/summary?${query}`, { token: sue.token });

  it('summary: every figure equals the same figure computed over the raw tables, overall, per channel and per queue', async () => {
    const res = await summary(`from=${RANGE.from}&to=${RANGE.to}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);

    // Worked out by hand from the seeds: answers 10, 20, 40, 5, 30 s; handles 300, 600, 100, 200 s.
    expect(res.body.overall).toEqual({
      conversations: 8,
      answered: 5,
      abandoned: 2,
      escalated: 2,
      averageAnswerSeconds: 21,
      answerSecondsP50: 20,
      answerSecondsP90: 36,
      averageHandleSeconds: 300,
    });
    expectSameFigures(res.body.overall, (await rawFigures('all')).get(null), 'overall');

    const [signedIn] = await sql<Array<{ n: number }>>`select count(*)::int as n from agents where presence <> 'offline' and not disabled`;
    expect(res.body.agentsSignedIn).toBe(signedIn!.n);
    expect(res.body.agentsSignedIn).toBeGreaterThanOrEqual(1);

    const byChannel = await rawFigures('channel');
    expect(res.body.byChannel.map((c) => c.channel).sort()).toEqual([...byChannel.keys()].sort());
    for (const c of res.body.byChannel) expectSameFigures(c, byChannel.get(c.channel), `channel ${c.channel}`);
    expect(res.body.byChannel.find((c) => c.channel === 'sms')).toMatchObject({ conversations: 4, answered: 3, abandoned: 1, answerSecondsP90: 28 });

    const byQueue = await rawFigures('queue_id');
    expect(res.body.byQueue.map((q) => q.queueId).sort()).toEqual([...byQueue.keys()].sort());
    for (const q of res.body.byQueue) expectSameFigures(q, byQueue.get(q.queueId), `queue ${q.queueId}`);
    expect(res.body.byQueue.find((q) => q.queueId === q2)).toMatchObject({ queueName: q2Name, conversations: 2 });
    expect(res.body.byQueue.find((q) => q.queueId === null)).toMatchObject({ queueName: null, conversations: 1 });
    expect(JSON.stringify(res.body)).not.toContain(SECRET);
  });

  it('summary: channel and queue filters narrow every figure the same way as SQL over the raw tables', async () => {
    const bySms = await summary(`from=${RANGE.from}&to=${RANGE.to}&channel=sms`);
    expect(bySms.status).toBe(200);
    expectSameFigures(bySms.body.overall, (await rawFigures('all', sql`and channel = 'sms'`)).get(null), 'sms overall');
    expect(bySms.body.byChannel.map((c) => c.channel)).toEqual(['sms']);

    const byQ2 = await summary(`from=${RANGE.from}&to=${RANGE.to}&queueId=${q2}`);
    expect(byQ2.status).toBe(200);
    expectSameFigures(byQ2.body.overall, (await rawFigures('all', sql`and queue_id = ${q2}`)).get(null), 'queue 2 overall');
    const q2Channels = await rawFigures('channel', sql`and queue_id = ${q2}`);
    for (const c of byQ2.body.byChannel) expectSameFigures(c, q2Channels.get(c.channel), `queue 2 channel ${c.channel}`);
    expect(byQ2.body.overall).toMatchObject({ conversations: 2, answered: 2, averageAnswerSeconds: 22.5, averageHandleSeconds: 100 });

    // A date-only `to` takes in that whole UTC day: the same range as the instants above.
    const days = await summary('from=2024-03-10&to=2024-03-11');
    expect(days.status).toBe(200);
    expect(days.body.overall).toEqual((await summary(`from=${RANGE.from}&to=${RANGE.to}`)).body.overall);

    // An empty range: zeros and nulls, not an error.
    const empty = await summary('from=2001-01-01T00:00:00Z&to=2001-01-01T00:00:00Z');
    expect(empty.status).toBe(200);
    expect(empty.body.overall).toMatchObject({ conversations: 0, answered: 0, averageAnswerSeconds: null, answerSecondsP50: null });
  });

  it('summary and export: supervisors only; a bad range or filter is a 400 naming the field', async () => {
    expect((await api(gw, 'GET', '/api/reports/summary')).status).toBe(401);
    expect((await api(gw, 'GET', '/api/reports/summary', { token: alice.token })).status).toBe(403);
    expect((await api(gw, 'GET', '/api/reports/conversations.csv', { token: bob.token })).status).toBe(403);
    const cases: Array<[string, string]> = [
      ['from=yesterday', 'from'],
      ['from=2024-03-10&to=31/03/2024', 'to'],
      ['from=2024-03-10T08:00:00', 'from'], // a date-time without its offset is ambiguous
      ['from=2024-03-12&to=2024-03-10', 'from'],
      ['from=2023-01-01&to=2024-03-10', 'to'], // more than 366 days
      ['channel=fax', 'channel'],
      ['queueId=not-a-uuid', 'queueId'],
      ['form=2024-03-10', 'form'],
    ];
    for (const [query, field] of cases) {
      for (const path of ['/api/reports/summary', '/api/reports/conversations.csv']) {
        const res = await api<{ error: { code: string; field: string } }>(gw, 'GET', `${path}?${query}`, { token: sue.token });
        expect(res.status, `${path}?${query}`).toBe(400);
        expect(res.body.error, `${path}?${query}`).toMatchObject({ code: 'invalid_request', field });
      }
    }
    const status = await api<{ error: { field: string } }>(gw, 'GET', '/api/reports/conversations.csv?status=lost', { token: sue.token });
    expect(status.status).toBe(400);
    expect(status.body.error.field).toBe('status');
  });

  async function csv(query: string): Promise<{ status: number; type: string | null; text: string }> {
    const res = await fetch(`${gw.url}/api/reports/conversations.csv?${query}`, { headers: { authorization: `Bearer ${sue.token}` } });
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
  }

  it('CSV: parses as RFC 4180, one row per conversation in range, metadata and counts, no content, formulas inert', async () => {
    const res = await csv(`from=${RANGE.from}&to=${RANGE.to}`);
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^text\/csv/);
    expect(parseCsv(res.text)[0]).toEqual([...REPORT_CONVERSATION_COLUMNS]);
    const rows = csvObjects(res.text);

    const raw = await sql<Array<{ id: string }>>`
      select id from conversations where opened_at >= ${RANGE.from}::timestamptz and opened_at < ${RANGE.to}::timestamptz`;
    expect(rows).toHaveLength(raw.length);
    expect(rows.map((r) => r.conversation_id).sort()).toEqual(raw.map((r) => r.id).sort());
    expect(new Set(rows.map((r) => r.conversation_id)).size).toBe(rows.length);
    expect(rows.map((r) => r.conversation_id)).not.toContain(ids.before);
    expect(rows.map((r) => r.conversation_id)).not.toContain(ids.after);
    // Oldest first.
    expect(rows.map((r) => r.opened_at)).toEqual(rows.map((r) => r.opened_at).sort());

    const a = rows.find((r) => r.conversation_id === ids.a)!;
    expect(a).toMatchObject({
      channel: 'sms', status: 'resolved', queue_id: q1, agent_id: alice.id, agent_name: 'alice',
      opened_at: '2024-03-10T08:00:00.123Z', accepted_at: '2024-03-10T08:00:10.123Z', resolved_at: '2024-03-10T08:05:10.123Z',
      answer_seconds: '10', handle_seconds: '300', resolution: 'handled', answered: 'true', abandoned: 'false', escalated: 'false',
      confidential: 'false', inbound_messages: '2', outbound_messages: '1', system_messages: '1', note_messages: '1',
    });
    const c = rows.find((r) => r.conversation_id === ids.c)!;
    expect(c).toMatchObject({ confidential: 'true', queue_name: `'${q2Name}`, agent_name: "'=cmd|calc", inbound_messages: '1', outbound_messages: '1', note_messages: '1' });
    expect(rows.find((r) => r.conversation_id === ids.d)).toMatchObject({ answered: 'false', abandoned: 'true', escalated: 'true', answer_seconds: '' });
    expect(rows.find((r) => r.conversation_id === ids.f)).toMatchObject({ answered: 'true', abandoned: 'true' });
    expect(rows.find((r) => r.conversation_id === ids.g)).toMatchObject({ queue_id: '', queue_name: '', status: 'queued', abandoned: 'false' });

    // No content at all: not the confidential one's, not anyone's.
    expect(res.text).not.toContain(SECRET);
    expect(res.text).not.toContain('still there?');
    // The queue name starts like a formula and holds a comma and quotes: quoted, prefixed, read back whole.
    expect(res.text).toContain(`"'+Medical, ""Urgent"""`);
  });

  it('CSV: filters by status, channel and queue exactly as SQL over the raw tables', async () => {
    const filters: Array<[string, postgres.PendingQuery<postgres.Row[]>]> = [
      ['status=resolved', sql`and status = 'resolved'`],
      ['channel=webchat', sql`and channel = 'webchat'`],
      [`queueId=${q1}&status=queued`, sql`and queue_id = ${q1} and status = 'queued'`],
    ];
    for (const [query, where] of filters) {
      const rows = csvObjects((await csv(`from=${RANGE.from}&to=${RANGE.to}&${query}`)).text);
      const raw = await sql<Array<{ id: string }>>`
        select id from conversations where opened_at >= ${RANGE.from}::timestamptz and opened_at < ${RANGE.to}::timestamptz ${where}`;
      expect(rows.map((r) => r.conversation_id).sort(), query).toEqual(raw.map((r) => r.id).sort());
      expect(rows.length, query).toBeGreaterThan(0);
    }
  });

  it('CSV pages: a page at a time, rows opened in the same microsecond neither skipped nor repeated', async () => {
    const filter = { from: new Date(RANGE.from), to: new Date(RANGE.to) };
    const paged: string[] = [];
    let pages = 0;
    for await (const page of reportConversationPages(gw.store.db, filter, 1)) {
      pages++;
      paged.push(...page.map((r) => r.conversation_id as string));
    }
    expect(pages).toBe(8);
    expect(paged).toHaveLength(8);
    expect(new Set(paged).size).toBe(8);
    expect(paged).toContain(ids.a);
    expect(paged).toContain(ids.h);
  });

  it('daily and hourly views agree with SQL over the raw tables', async () => {
    const agentDaily = await sql`
      select day::text, agent_id, conversations, answered, abandoned, escalated, avg_answer_seconds, avg_handle_seconds
        from report_agent_daily where day between '2024-03-10' and '2024-03-11' order by 1, 2`;
    const rawAgentDaily = await sql`
      select (opened_at at time zone 'UTC')::date::text as day, agent_id, count(*)::int as conversations,
             count(*) filter (where accepted_at is not null)::int as answered,
             count(*) filter (where resolution in ('abandoned', 'timed_out') or status = 'abandoned' or (resolved_at is not null and accepted_at is null))::int as abandoned,
             count(*) filter (where escalated_at is not null)::int as escalated,
             avg(extract(epoch from accepted_at - opened_at))::float8 as avg_answer_seconds,
             avg(extract(epoch from resolved_at - accepted_at))::float8 as avg_handle_seconds
        from conversations
       where agent_id is not null and opened_at >= ${RANGE.from}::timestamptz and opened_at < ${RANGE.to}::timestamptz
       group by 1, 2 order by 1, 2`;
    expect(agentDaily).toEqual(rawAgentDaily);
    expect(agentDaily.find((r) => r.agent_id === alice.id && r.day === '2024-03-10')).toMatchObject({ conversations: 2, avg_answer_seconds: 15 });

    const hourly = await sql`select hour, conversations, answered from report_hourly where hour >= ${RANGE.from} and hour < ${RANGE.to} order by 1`;
    const rawHourly = await sql`
      select date_trunc('hour', opened_at at time zone 'UTC') at time zone 'UTC' as hour, count(*)::int as conversations,
             count(*) filter (where accepted_at is not null)::int as answered
        from conversations where opened_at >= ${RANGE.from}::timestamptz and opened_at < ${RANGE.to}::timestamptz group by 1 order by 1`;
    expect(hourly).toEqual(rawHourly);
    expect(hourly[0]).toMatchObject({ conversations: 2, answered: 1 });
  });

  /** Runs a statement as the reporting role in a transaction of its own. */
  const asReporting = (run: (tx: postgres.TransactionSql) => Promise<unknown>) =>
    sql.begin(async (tx) => {
      await tx`set local role lifeline_reporting`;
      return run(tx);
    });

  it('the lifeline_reporting role selects every report view and nothing else', async () => {
    for (const view of ['report_conversations', 'report_agents', 'report_agent_daily', 'report_queue_daily', 'report_hourly']) {
      const rows = (await asReporting((tx) => tx`select * from ${tx(view)} limit 5`)) as unknown[];
      expect(rows.length, view).toBeGreaterThan(0);
    }
    const seen = (await asReporting((tx) => tx`select count(*)::int as n from report_conversations where confidential`)) as Array<{ n: number }>;
    expect(seen[0]!.n).toBeGreaterThanOrEqual(1);

    const denied: Array<[string, (tx: postgres.TransactionSql) => Promise<unknown>]> = [
      ['select messages', (tx) => tx`select body from messages limit 1`],
      ['select conversations', (tx) => tx`select id from conversations limit 1`],
      ['select agents', (tx) => tx`select password_hash from agents limit 1`],
      ['select sessions', (tx) => tx`select token_hash from sessions limit 1`],
      ['select events', (tx) => tx`select id from events limit 1`],
      ['insert conversations', (tx) => tx`insert into conversations (channel, channel_link_id, contact_id) values ('sms', ${linkId}, ${randomUUID()})`],
      ['update agents', (tx) => tx`update agents set role = 'admin'`],
      ['delete messages', (tx) => tx`delete from messages`],
      ['insert events', (tx) => tx`insert into events (type, actor_type) values ('x', 'system')`],
      ['update a view', (tx) => tx`update report_agents set presence = 'offline'`],
      ['delete from a view', (tx) => tx`delete from report_agents`],
      ['truncate', (tx) => tx`truncate events`],
      ['create a table', (tx) => tx`create table public.lifeline_reporting_probe (id int)`],
      ['call nextval', (tx) => tx`select nextval('messages_id_seq')`],
    ];
    for (const [what, run] of denied) {
      await expect(asReporting(run), what).rejects.toMatchObject({ code: '42501' });
    }

    const [role] = await sql`select rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls from pg_roles where rolname = 'lifeline_reporting'`;
    expect(role).toEqual({ rolcanlogin: false, rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolbypassrls: false });
    const grants = await sql`
      select table_name, privilege_type from information_schema.role_table_grants where grantee = 'lifeline_reporting' order by 1, 2`;
    expect(grants).toEqual(
      ['report_agent_daily', 'report_agents', 'report_conversations', 'report_hourly', 'report_queue_daily'].map((t) => ({ table_name: t, privilege_type: 'SELECT' })),
    );
    const owners = await sql`select distinct viewowner from pg_views where viewname like 'report\\_%'`;
    expect(owners).toEqual([{ viewowner: (await sql`select current_user as u`)[0]!.u }]);
    const comments = await sql`
      select c.relname, obj_description(c.oid, 'pg_class') as comment from pg_class c where c.relname like 'report\\_%' and c.relkind = 'v'`;
    expect(comments.every((c) => typeof c.comment === 'string' && c.comment.length > 0)).toBe(true);
    const [undocumented] = await sql`
      select count(*)::int as n from pg_attribute a join pg_class c on c.oid = a.attrelid
       where c.relname like 'report\\_%' and c.relkind = 'v' and a.attnum > 0 and col_description(c.oid, a.attnum) is null`;
    expect(undocumented!.n).toBe(0);
  });

  it('databases migrating side by side with the role already in the cluster both succeed and both grant it', async () => {
    const databases = await Promise.all([createTestDatabase(), createTestDatabase()]);
    const log = createLogger('silent');
    try {
      await Promise.all(
        databases.map(async (d) => {
          const store = openStore({ url: d.url, max: 2, log });
          try {
            await migrateStore(store, { lock: true });
            const [grant] = await store.sql`select has_table_privilege('lifeline_reporting', 'report_conversations', 'select') as ok`;
            expect(grant!.ok).toBe(true);
            const [denied] = await store.sql`select has_table_privilege('lifeline_reporting', 'messages', 'select') as ok`;
            expect(denied!.ok).toBe(false);
          } finally {
            await store.sql.end();
          }
        }),
      );
    } finally {
      await Promise.all(databases.map((d) => d.drop()));
    }
  });

  async function scrape(): Promise<Map<string, number>> {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    const values = new Map<string, number>();
    for (const line of text.split('\n')) {
      if (!line || line.startsWith('#')) continue;
      const space = line.lastIndexOf(' ');
      values.set(line.slice(0, space), Number(line.slice(space + 1)));
    }
    return values;
  }

  it('/metrics: messages in and out per channel, answer times and waiting conversations per queue', async () => {
    // An offer to alice of a conversation opened 12 s ago: her accept is a 12 s answer.
    const [contact] = await sql<Array<{ id: string }>>`insert into contacts (channel, address) values ('slack', 'U-REPORTS') returning id`;
    const [offered] = await sql<Array<{ id: string }>>`
      insert into conversations (channel, channel_link_id, contact_id, status, queue_id, agent_id, opened_at, queued_at, first_offered_at, offered_at)
      values ('slack', ${linkId}, ${contact!.id}, 'offered', ${q1}, ${alice.id}, now() - interval '12 seconds', now() - interval '12 seconds', now(), now())
      returning id`;
    const conversationId = offered!.id;
    const accepted = await api(gw, 'POST', `/api/conversations/${conversationId}/accept`, { token: alice.token });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);

    // Three texts from the citizen, two replies that go out and one the channel refuses.
    for (let i = 0; i < 3; i++) {
      await gw.receive({ channel: 'slack', channelLinkId: linkId, from: 'U-REPORTS', channelMessageId: randomUUID(), text: `text ${i}`, receivedAt: new Date() });
    }
    for (const text of ['on our way', 'stay on the line', 'FAIL this one']) {
      const res = await api(gw, 'POST', `/api/conversations/${conversationId}/messages`, { token: alice.token, body: { text, clientId: randomUUID() } });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
    // The acknowledgement (a system text) and the replies all settled.
    const settled = await waitFor('every outbound message settled', async () => {
      const rows = await sql<Array<{ direction: string; delivery_status: string; body: string }>>`
        select direction, delivery_status, body from messages where conversation_id = ${conversationId} and direction in ('outbound', 'system')`;
      return rows.length === 4 && rows.every((r) => r.delivery_status === 'sent' || r.delivery_status === 'failed') ? rows : undefined;
    });
    expect(settled.filter((r) => r.delivery_status === 'failed').map((r) => r.body)).toEqual(['FAIL this one']);

    // Waiting conversations in a queue of their own: two queued, one offered (not yet accepted), one active (not waiting).
    await sql`insert into queues (name) values ('waiting-room')`;
    const [room] = await sql<Array<{ id: string }>>`select id from queues where name = 'waiting-room'`;
    for (const status of ['queued', 'queued', 'offered', 'active']) {
      await seed({ channel: 'sms', queueId: room!.id, agentId: status === 'queued' ? null : bob.id, openedAt: new Date().toISOString(), ...(status === 'active' ? { accept: 1 } : {}) });
      if (status === 'offered') await sql`update conversations set status = 'offered' where status = 'queued' and queue_id = ${room!.id} and agent_id = ${bob.id}`;
    }

    const m = await scrape();
    expect(m.get('lifeline_messages_stored_total{channel="slack"}')).toBe(3);
    expect(m.get('lifeline_messages_outbound_total{channel="slack",status="sent"}')).toBe(3); // acknowledgement + 2 replies
    expect(m.get('lifeline_messages_outbound_total{channel="slack",status="failed"}')).toBe(1);

    const [answer] = await sql<Array<{ s: number }>>`select extract(epoch from accepted_at - opened_at)::float8 as s from conversations where id = ${conversationId}`;
    expect(answer!.s).toBeGreaterThanOrEqual(12);
    expect(answer!.s).toBeLessThan(15);
    expect(m.get('lifeline_answer_seconds_count{channel="slack"}')).toBe(1);
    expect(m.get('lifeline_answer_seconds_sum{channel="slack"}')).toBeCloseTo(answer!.s, 3);
    expect(m.get('lifeline_answer_seconds_bucket{le="10",channel="slack"}')).toBe(0);
    expect(m.get('lifeline_answer_seconds_bucket{le="15",channel="slack"}')).toBe(1);
    expect(m.get('lifeline_answer_seconds_bucket{le="300",channel="slack"}')).toBe(1);

    expect(m.get('lifeline_queue_waiting_conversations{queue="waiting-room"}')).toBe(3);
    const perQueue = await sql<Array<{ name: string; n: number }>>`
      select q.name, count(c.id)::int as n from queues q left join conversations c on c.queue_id = q.id and c.status in ('queued', 'offered') group by q.name`;
    for (const { name, n } of perQueue) {
      const label = name.replaceAll('\\', '\\\\').replaceAll('"', '\\"');
      expect(m.get(`lifeline_queue_waiting_conversations{queue="${label}"}`), name).toBe(n);
    }
  });
});
