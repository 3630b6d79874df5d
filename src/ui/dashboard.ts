/**
 * The supervisor dashboard (`/dashboard`): today's figures as tiles and bar
 * charts, from `GET /api/reports/summary` and `/api/reports/hourly` (the
 * `report_` views) and, for what is true right now (waiting per queue, agents
 * by presence), the `/agent` socket's conversation list and directory. Every
 * push that can change a figure triggers one debounced reload.
 */
import { OPEN_STATUSES, PRESENCES } from '../domain/types.ts';
import type { ConversationView, DirectoryView } from '../realtime/events.ts';
import type { HourlyVolume, ReportSummary } from '../store/report-views.ts';
import { drawBarChart, type Bar } from './chart.ts';
import { byId, el } from './dom.ts';
import { http } from './http.ts';
import { describeError } from './request.ts';
import { staffPage, type StaffSession } from './staff-page.ts';

const HOUR = 3_600_000;
const tiles = byId('tiles', HTMLDListElement);
const updated = byId('updated', HTMLSpanElement);
const charts = {
  hourly: byId('chart-hourly', HTMLElement),
  answer: byId('chart-answer', HTMLElement),
  queues: byId('chart-queues', HTMLElement),
  presence: byId('chart-presence', HTMLElement),
};

let session: StaffSession | undefined;
let timer: ReturnType<typeof setTimeout> | undefined;
let loading = false;
let again = false;

/** Seconds as shown on a tile: one decimal, or a dash when there is nothing to measure. */
export const seconds = (s: number | null): string => (s === null ? '–' : `${s.toFixed(1)} s`);

/** A figure as a term and its value, grouped (a div inside the dl) so the pair is one tile. */
function tile(id: string, label: string, value: string, raw: number | null): HTMLElement {
  return el('div', { class: 'tile' }, [
    el('dt', { class: 'tile-label', text: label }),
    el('dd', { class: 'tile-value', text: value, testid: `tile-${id}`, attrs: { 'data-value': raw === null ? '' : String(raw) } }),
  ]);
}

/** Today in the browser's time zone: [local midnight, next local midnight). */
function today(): { from: Date; to: Date } {
  const from = new Date();
  from.setHours(0, 0, 0, 0);
  const to = new Date(from);
  to.setDate(to.getDate() + 1);
  return { from, to };
}

const hourLabel = (d: Date) => `${String(d.getHours()).padStart(2, '0')}h`;

function render(summary: ReportSummary, hours: HourlyVolume[], open: ConversationView[], directory: DirectoryView, from: Date): void {
  const o = summary.overall;
  const waiting = open.filter((c) => c.status === 'queued' || c.status === 'offered');
  tiles.replaceChildren(
    tile('conversations', 'Conversations', String(o.conversations), o.conversations),
    tile('answered', 'Answered', String(o.answered), o.answered),
    tile('abandoned', 'Abandoned', String(o.abandoned), o.abandoned),
    tile('escalated', 'Escalations', String(o.escalated), o.escalated),
    tile('answer-p50', 'Answer time, median', seconds(o.answerSecondsP50), o.answerSecondsP50),
    tile('answer-p90', 'Answer time, 90th percentile', seconds(o.answerSecondsP90), o.answerSecondsP90),
    tile('answer-avg', 'Answer time, average', seconds(o.averageAnswerSeconds), o.averageAnswerSeconds),
    tile('waiting', 'Waiting now', String(waiting.length), waiting.length),
    tile('agents-signed-in', 'Agents signed in', String(summary.agentsSignedIn), summary.agentsSignedIn),
  );

  // Every hour of today up to the current one, empty hours included.
  const byHour = new Map(hours.map((h) => [new Date(h.hour).getTime(), h.conversations]));
  const bars: Bar[] = [];
  for (let t = from.getTime(); t <= Date.now(); t += HOUR) bars.push({ label: hourLabel(new Date(t)), value: byHour.get(t) ?? 0 });
  drawBarChart(charts.hourly, 'Conversations per hour', bars, 'chart-hourly');

  drawBarChart(
    charts.answer,
    'Answer times (seconds)',
    [
      { label: 'median', value: o.answerSecondsP50 ?? 0, text: seconds(o.answerSecondsP50) },
      { label: 'p90', value: o.answerSecondsP90 ?? 0, text: seconds(o.answerSecondsP90) },
      { label: 'average', value: o.averageAnswerSeconds ?? 0, text: seconds(o.averageAnswerSeconds) },
    ],
    'chart-answer',
  );

  const perQueue = new Map<string | null, number>();
  for (const c of waiting) perQueue.set(c.queueId, (perQueue.get(c.queueId) ?? 0) + 1);
  const queueBars: Bar[] = directory.queues.map((q) => ({ label: q.name, value: perQueue.get(q.id) ?? 0 }));
  if (perQueue.has(null)) queueBars.push({ label: 'not routed', value: perQueue.get(null) ?? 0 });
  drawBarChart(charts.queues, 'Waiting per queue', queueBars, 'chart-queues');

  drawBarChart(
    charts.presence,
    'Agents by presence',
    PRESENCES.map((p) => ({ label: p, value: directory.agents.filter((a) => a.presence === p).length })),
    'chart-presence',
  );
  updated.textContent = `updated ${new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })}`;
}

async function load(): Promise<void> {
  const s = session;
  if (!s) return;
  if (loading) {
    again = true;
    return;
  }
  loading = true;
  try {
    const { from, to } = today();
    const range = `from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`;
    const [summary, hourly, open, directory] = await Promise.all([
      http<ReportSummary>('GET', `/api/reports/summary?${range}`, s.token),
      http<{ hours: HourlyVolume[] }>('GET', `/api/reports/hourly?${range}`, s.token),
      s.ask('conversation:list', {}),
      s.ask('directory:list', {}),
    ]);
    if (session !== s) return;
    if (!summary.ok) return status.error(`Could not load the figures: ${summary.message}`);
    if (!hourly.ok) return status.error(`Could not load the hourly volume: ${hourly.message}`);
    if (!open.ok) return status.error(`Could not load the conversations: ${describeError(open)}`);
    if (!directory.ok) return status.error(`Could not load the agents: ${describeError(directory)}`);
    render(summary.data, hourly.data.hours, open.data.filter((c) => OPEN_STATUSES.includes(c.status)), directory.data, from);
    document.body.dataset.loaded = String(Number(document.body.dataset.loaded ?? 0) + 1);
  } finally {
    loading = false;
    if (again) {
      again = false;
      refresh();
    }
  }
}

/** Reloads soon, once however many pushes arrive together. */
function refresh(): void {
  timer ??= setTimeout(() => {
    timer = undefined;
    void load();
  }, 300);
}

const status = staffPage({
  role: 'supervisor',
  name: 'dashboard',
  start(s) {
    session = s;
    for (const event of ['conversation:offered', 'conversation:updated', 'conversation:escalated', 'message:new', 'presence:changed'] as const) {
      s.socket.on(event, refresh);
    }
  },
  connected: () => void load(),
  stop() {
    session = undefined;
    tiles.replaceChildren();
    for (const figure of Object.values(charts)) figure.replaceChildren();
  },
});

// Today moves on (a new hour, a new day) even when nothing happens.
setInterval(() => session?.socket.connected && refresh(), 60_000);
