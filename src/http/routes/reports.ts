import { Router } from 'express';
import { z } from 'zod';
import type { Auth } from '../../auth/sessions.ts';
import { ValidationError } from '../../errors.ts';
import type { Db } from '../../store/db.ts';
import { reportConversations } from '../../store/reports.ts';
import { requireRole } from '../middleware.ts';
import { parse } from '../validate.ts';

const DAY = 86_400_000;
const rangeQuery = z.object({
  from: z.coerce.date({ message: 'must be a date (ISO 8601)' }).optional(),
  to: z.coerce.date({ message: 'must be a date (ISO 8601)' }).optional(),
});

/**
 * `/api/reports/conversations?from&to` (supervisors): conversations opened in
 * [from, to) (default: the last 7 days) with metadata and message counts;
 * message bodies only for conversations that are not confidential.
 */
export function reportRoutes(deps: { auth: Auth; db: Db }): Router {
  const r = Router();
  r.get('/reports/conversations', requireRole(deps.auth, 'supervisor'), async (req, res) => {
    const q = parse(rangeQuery, req.query, 'query');
    const to = q.to ?? new Date();
    const from = q.from ?? new Date(to.getTime() - 7 * DAY);
    if (from.getTime() >= to.getTime()) throw new ValidationError('from must be before to', 'from');
    if (to.getTime() - from.getTime() > 366 * DAY) throw new ValidationError('at most 366 days per export', 'to');
    res.json({ from: from.toISOString(), to: to.toISOString(), conversations: await reportConversations(deps.db, { from, to }) });
  });
  return r;
}
