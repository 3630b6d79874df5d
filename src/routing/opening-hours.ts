/**
 * Opening hours of a queue: when texts are taken. Pure: evaluated in the
 * queue's time zone for a given instant.
 */
import type { OpeningHours } from '../store/schema.ts';

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
type Day = (typeof DAYS)[number];

const minutes = (hhmm: string): number => {
  const m = /^(\d{1,2}):(\d{2})$/.exec(hhmm.trim());
  if (!m) return Number.NaN;
  return Number(m[1]) * 60 + Number(m[2]);
};

/** The day of the week and minute of the day at `now` in `timeZone`. */
export function localTime(now: Date, timeZone: string): { day: Day; minute: number } {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(now);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const day = get('weekday').slice(0, 3).toLowerCase() as Day;
  return { day, minute: Number(get('hour')) * 60 + Number(get('minute')) };
}

/**
 * Whether texts are taken at `now`. No hours (null) means always open. A
 * day's ranges are `["08:00","20:00"]` (end exclusive); an end before its
 * start runs past midnight into the next day; `"24:00"` ends at midnight.
 * Days without an entry are closed. An unknown time zone counts as open:
 * a misconfiguration must not turn every citizen away.
 */
export function isOpen(hours: OpeningHours | null | undefined, now: Date): boolean {
  if (!hours) return true;
  let local: { day: Day; minute: number };
  try {
    local = localTime(now, hours.timeZone);
  } catch {
    return true;
  }
  const today = DAYS.indexOf(local.day);
  const yesterday = DAYS[(today + 6) % 7] as Day;
  for (const [from, to] of hours.days[local.day] ?? []) {
    const start = minutes(from);
    const end = minutes(to);
    if (end > start ? local.minute >= start && local.minute < end : local.minute >= start) return true;
  }
  // Yesterday's ranges that run past midnight.
  for (const [from, to] of hours.days[yesterday] ?? []) {
    const start = minutes(from);
    const end = minutes(to);
    if (end < start && local.minute < end) return true;
  }
  return false;
}
