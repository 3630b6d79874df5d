/**
 * The supervisor dashboard in a real headless Chromium against a real
 * gateway: conversations seeded with known timestamps (SQL) show as tiles and
 * charts equal to figures the test computes from SQL; a web chat that arrives
 * afterwards updates them live, without a reload.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, signIn } from '../support/browser.ts';
import { ADMIN_PASSWORD, api, connectCitizen, login, request, startTestGateway, type CitizenSocket, type TestGateway } from '../support/gateway.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const seconds = (s: number | null) => (s === null ? '–' : `${s.toFixed(1)} s`);

describe('dashboard in a browser', () => {
  let gw: TestGateway;
  let browser: Browser;
  let context: BrowserContext | undefined;
  let citizen: CitizenSocket | undefined;

  beforeAll(async () => {
    [gw, browser] = await Promise.all([startTestGateway(), launchBrowser()]);
    expect((await fetch(`${gw.url}/assets/dashboard.js`)).status).toBe(200);
  });
  afterAll(async () => {
    citizen?.disconnect();
    await context?.close().catch(() => undefined);
    await browser?.close();
    await gw?.destroy();
  });

  /** Today's figures straight from the conversations table (not the report views the page reads). */
  async function expected(dayStart: Date) {
    const sql = gw.store.sql;
    const from = dayStart.toISOString();
    const to = new Date(dayStart.getTime() + DAY).toISOString();
    const [f] = await sql`
      select count(*)::int as conversations,
             count(*) filter (where accepted_at is not null)::int as answered,
             count(*) filter (where coalesce(resolution in ('abandoned', 'timed_out'), false) or status = 'abandoned'
                                 or (resolved_at is not null and accepted_at is null))::int as abandoned,
             count(*) filter (where escalated_at is not null)::int as escalated,
             percentile_cont(0.5) within group (order by extract(epoch from accepted_at - opened_at)) as p50,
             percentile_cont(0.9) within group (order by extract(epoch from accepted_at - opened_at)) as p90,
             avg(extract(epoch from accepted_at - opened_at)) as avg
        from conversations where opened_at >= ${from} and opened_at < ${to}`;
    const [w] = await sql`select count(*)::int as n from conversations where status in ('queued', 'offered')`;
    const [a] = await sql`select count(*)::int as n from agents where presence <> 'offline' and not disabled`;
    const hours = await sql`
      select extract(hour from opened_at at time zone 'UTC')::int as h, count(*)::int as n
        from conversations where opened_at >= ${from} and opened_at < ${to} group by 1`;
    const byHour = new Map(hours.map((r) => [Number(r.h), Number(r.n)]));
    const currentHour = new Date().getUTCHours();
    const hourly = Array.from({ length: currentHour + 1 }, (_, h) => `${String(h).padStart(2, '0')}h: ${byHour.get(h) ?? 0}`);
    const num = (v: unknown) => (v === null ? null : Number(v));
    return {
      tiles: {
        conversations: String(f!.conversations),
        answered: String(f!.answered),
        abandoned: String(f!.abandoned),
        escalated: String(f!.escalated),
        'answer-p50': seconds(num(f!.p50)),
        'answer-p90': seconds(num(f!.p90)),
        'answer-avg': seconds(num(f!.avg)),
        waiting: String(w!.n),
        'agents-signed-in': String(a!.n),
      },
      hourly,
    };
  }

  const tiles = async (page: Page) => {
    const out: Record<string, string> = {};
    for (const node of await page.locator('[data-testid^="tile-"]').all()) {
      const id = (await node.getAttribute('data-testid'))!.slice('tile-'.length);
      out[id] = (await node.textContent()) ?? '';
    }
    return out;
  };

  it('shows seeded figures equal to SQL and updates live when a web chat arrives', async () => {
    const sql = gw.store.sql;
    const now = Date.now();
    const dayStart = new Date(Math.floor(now / DAY) * DAY);
    // Spread over today so far (at 00:01 UTC they still fall today, before now).
    const at = (fraction: number, plusSeconds = 0) => new Date(dayStart.getTime() + (now - dayStart.getTime()) * fraction + plusSeconds * 1000).toISOString();
    const [link] = await sql`select id from channel_links where channel = 'webchat' limit 1`;
    const [queue] = await sql`select id from queues where is_default`;
    const seeds: Array<{ opened: string; accepted?: number; resolved?: number; escalated?: number; status: string; resolution?: string }> = [
      { opened: at(0.1), accepted: 12, resolved: 200, status: 'resolved', resolution: 'handled' },
      { opened: at(0.3), accepted: 30, resolved: 400, status: 'resolved', resolution: 'handled' },
      { opened: at(0.5), accepted: 75, escalated: 50, status: 'active' },
      { opened: at(0.6), resolved: 40, status: 'abandoned', resolution: 'abandoned' },
      { opened: at(0.7), escalated: 50, status: 'queued' },
      // Yesterday: not today's.
      { opened: new Date(dayStart.getTime() - 2 * HOUR).toISOString(), accepted: 5, resolved: 60, status: 'resolved', resolution: 'handled' },
    ];
    for (const [i, s] of seeds.entries()) {
      const [contact] = await sql`insert into contacts (channel, address) values ('webchat', ${`seed-${i}-${randomUUID()}`}) returning id`;
      const plus = (sec?: number) => (sec === undefined ? null : new Date(Date.parse(s.opened) + sec * 1000).toISOString());
      await sql`
        insert into conversations (channel, channel_link_id, contact_id, status, queue_id, opened_at, queued_at, last_message_at,
                                   first_offered_at, accepted_at, resolved_at, escalated_at, resolution)
        values ('webchat', ${link!.id}, ${contact!.id}, ${s.status}, ${queue!.id}, ${s.opened}, ${s.opened}, ${s.opened},
                ${plus(s.accepted === undefined ? undefined : 1)}, ${plus(s.accepted)}, ${plus(s.resolved)}, ${plus(s.escalated)}, ${s.resolution ?? null})`;
    }

    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC' });
    context.setDefaultTimeout(25_000);
    const page = await context.newPage();
    const incidents: string[] = [];
    page.on('pageerror', (err) => incidents.push(`page error ${err.message}`));
    page.on('console', (msg) => msg.type() === 'error' && incidents.push(`console error ${msg.text()}`));

    await signIn(page, gw.url, 'admin', { page: 'dashboard', password: ADMIN_PASSWORD });

    const before = await expected(dayStart);
    // The seeds are what the figures show: 5 today, 3 answered (12, 30, 75 s), 1 abandoned, 2 escalated, 1 waiting.
    expect(before.tiles).toMatchObject({ conversations: '5', answered: '3', abandoned: '1', escalated: '2', waiting: '1', 'answer-p50': '30.0 s' });
    expect(await tiles(page)).toEqual(before.tiles);
    expect(await page.getByTestId('chart-hourly-values').locator('li').allTextContents()).toEqual(before.hourly);
    expect(await page.getByTestId('chart-answer-values').locator('li').allTextContents()).toEqual([
      `median: ${before.tiles['answer-p50']}`,
      `p90: ${before.tiles['answer-p90']}`,
      `average: ${before.tiles['answer-avg']}`,
    ]);
    const loads = Number(await page.locator('body').getAttribute('data-loaded'));

    // A citizen starts a web chat: the page updates over the socket, no reload.
    citizen = await connectCitizen(gw);
    await request(citizen, 'session:start', {});
    await request(citizen, 'message:send', { clientId: randomUUID(), text: 'I need help, someone broke in' });
    await page.getByTestId('tile-conversations').filter({ hasText: /^6$/ }).waitFor();
    await page.getByTestId('tile-waiting').filter({ hasText: /^2$/ }).waitFor();
    const after = await expected(dayStart);
    expect(after.tiles.conversations).toBe('6');
    expect(await tiles(page)).toEqual(after.tiles);
    expect(await page.getByTestId('chart-hourly-values').locator('li').allTextContents()).toEqual(after.hourly);
    expect(after.hourly).not.toEqual(before.hourly);
    // Same document: updated by a reload of the data, not of the page.
    expect(Number(await page.locator('body').getAttribute('data-loaded'))).toBeGreaterThan(loads);
    expect(incidents).toEqual([]);

    // The hourly endpoint the chart reads validates its query and names the field.
    const token = await login(gw, 'admin', ADMIN_PASSWORD);
    const bad = await api<{ error: { field: string } }>(gw, 'GET', '/api/reports/hourly?from=yesterday', { token });
    expect([bad.status, bad.body.error.field]).toEqual([400, 'from']);
  });
});
