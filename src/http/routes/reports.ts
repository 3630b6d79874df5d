import { once } from 'node:events';
import { Router, type Response } from 'express';
import { z } from 'zod';
import type { Auth } from '../../auth/sessions.ts';
import { CHANNELS, CONVERSATION_STATUSES } from '../../domain/types.ts';
import { ValidationError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { Db } from '../../store/db.ts';
import { reportConversations } from '../../store/reports.ts';
import { REPORT_CONVERSATION_COLUMNS, reportConversationPages, reportHourly, reportSummary, type ReportFilter } from '../../store/report-views.ts';
import { csvRow } from '../csv.ts';
import { requireRole } from '../middleware.ts';
import { parse } from '../validate.ts';

const DAY = 86_400_000;
const MAX_DAYS = 366;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;
const instant = z
  .string()
  .refine((s) => (DATE_ONLY.test(s) || DATE_TIME.test(s)) && !Number.isNaN(Date.parse(s)), {
    message: 'must be an ISO 8601 date (2025-01-31, a UTC day) or a date-time with its offset (2025-01-31T08:00:00Z)',
  });

const rangeFields = { from: instant.optional(), to: instant.optional() };
const filterFields = { ...rangeFields, channel: z.enum(CHANNELS).optional(), queueId: z.uuid({ message: 'must be a queue id (UUID)' }).optional() };
export const reportExportQuery = z.object(rangeFields);
export const reportSummaryQuery = z.object(filterFields);
export const reportCsvQuery = z.object({ ...filterFields, status: z.enum(CONVERSATION_STATUSES).optional() });

/** Parses a report's query; a misspelt parameter is an error, not a silently wider report. */
function parseQuery<S extends z.ZodObject>(schema: S, query: unknown): z.infer<S> {
  for (const key of Object.keys((query ?? {}) as object)) {
    if (!(key in schema.shape)) throw new ValidationError(`${key}: is not a known parameter`, key);
  }
  return parse(schema, query, 'query');
}

/**
 * The range [from, to) of a report. A date-only `to` includes that whole UTC
 * day; without `to`, now; without `from`, 7 days before `to`. `from` may equal
 * `to` (an empty range) but not follow it, and a range spans at most 366 days.
 */
function rangeOf(q: { from?: string; to?: string }): { from: Date; to: Date } {
  const toGiven = q.to === undefined ? Date.now() : Date.parse(q.to);
  const to = new Date(toGiven + (q.to !== undefined && DATE_ONLY.test(q.to) ? DAY : 0));
  const from = q.from === undefined ? new Date(to.getTime() - 7 * DAY) : new Date(q.from);
  if (from.getTime() > toGiven) throw new ValidationError('from: must not be after to', 'from');
  if (to.getTime() - from.getTime() > MAX_DAYS * DAY) throw new ValidationError(`to: a report covers at most ${MAX_DAYS} days`, 'to');
  return { from, to };
}

const TIMESTAMP_COLUMNS = new Set(['opened_at', 'first_offered_at', 'accepted_at', 'first_response_at', 'resolved_at', 'escalated_at']);
const csvValue = (column: string, value: unknown) =>
  TIMESTAMP_COLUMNS.has(column) && value !== null && value !== undefined ? new Date(value as string).toISOString() : value;

/** Writes with backpressure; false once the client has gone. */
async function write(res: Response, chunk: string): Promise<boolean> {
  if (res.destroyed) return false;
  if (!res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
  return !res.destroyed;
}

/**
 * Reports for supervisors:
 * - `GET /reports/conversations?from&to`: conversations opened in the range with
 *   metadata, message counts and, only when not confidential, message bodies (JSON);
 * - `GET /reports/summary?from&to[&channel][&queueId]`: figures overall, per
 *   channel and per queue, from the `report_` views;
 * - `GET /reports/hourly?from&to`: conversations per UTC hour from `report_hourly`
 *   (the dashboard's volume chart); hours from the one `from` falls in;
 * - `GET /reports/conversations.csv?from&to[&channel][&queueId][&status]`: one row per
 *   conversation from `report_conversations` (no content at all), streamed a page at a time.
 */
export function reportRoutes(deps: { auth: Auth; db: Db; log: Logger }): Router {
  const r = Router();
  const supervisor = requireRole(deps.auth, 'supervisor');
  r.get('/reports/conversations', supervisor, async (req, res) => {
    const range = rangeOf(parseQuery(reportExportQuery, req.query));
    res.json({ from: range.from.toISOString(), to: range.to.toISOString(), conversations: await reportConversations(deps.db, range) });
  });
  r.get('/reports/summary', supervisor, async (req, res) => {
    const q = parseQuery(reportSummaryQuery, req.query);
    const filter: ReportFilter = { ...rangeOf(q), channel: q.channel, queueId: q.queueId };
    const summary = await reportSummary(deps.db, filter);
    res.json({
      from: filter.from.toISOString(),
      to: filter.to.toISOString(),
      filters: { channel: q.channel ?? null, queueId: q.queueId ?? null },
      ...summary,
    });
  });
  r.get('/reports/hourly', supervisor, async (req, res) => {
    const range = rangeOf(parseQuery(reportExportQuery, req.query));
    res.json({ from: range.from.toISOString(), to: range.to.toISOString(), hours: await reportHourly(deps.db, range) });
  });
  r.get('/reports/conversations.csv', supervisor, async (req, res) => {
    const q = parseQuery(reportCsvQuery, req.query);
    const filter: ReportFilter = { ...rangeOf(q), channel: q.channel, queueId: q.queueId, status: q.status };
    const name = `conversations-${filter.from.toISOString().slice(0, 10)}-${filter.to.toISOString().slice(0, 10)}.csv`;
    res.status(200).type('text/csv; charset=utf-8; header=present').setHeader('content-disposition', `attachment; filename="${name}"`);
    try {
      if (!(await write(res, csvRow(REPORT_CONVERSATION_COLUMNS)))) return;
      for await (const page of reportConversationPages(deps.db, filter)) {
        const chunk = page.map((row) => csvRow(REPORT_CONVERSATION_COLUMNS.map((c) => csvValue(c, row[c])))).join('');
        if (!(await write(res, chunk))) return;
      }
      res.end();
    } catch (err) {
      // The status is sent: a cut-off body is all that can tell the client the export failed.
      deps.log.error({ err, component: 'reports' }, 'CSV export failed part-way');
      res.destroy(err as Error);
    }
  });
  return r;
}
