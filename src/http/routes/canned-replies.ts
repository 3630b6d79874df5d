import { Router } from 'express';
import { z } from 'zod';
import type { Auth } from '../../auth/sessions.ts';
import { NotFoundError } from '../../errors.ts';
import type { Db } from '../../store/db.ts';
import { deleteCannedReply, insertCannedReply, listCannedReplies, updateCannedReply } from '../../store/canned-replies.ts';
import { requireRole } from '../middleware.ts';
import { idParam } from '../schemas.ts';
import { parse } from '../validate.ts';

const language = z.string().trim().min(2).max(20).regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'a language tag such as en or es-MX');
/** A new canned reply. */
export const cannedReplyBody = z.object({
  language: language.default('en'),
  title: z.string().trim().min(1).max(120),
  body: z.string().trim().min(1).max(2000),
  position: z.number().int().min(0).max(100000).default(0),
});
/** A change to a canned reply: only the fields given. */
export const cannedReplyPatch = z.object({
  language: language.optional(),
  title: z.string().trim().min(1).max(120).optional(),
  body: z.string().trim().min(1).max(2000).optional(),
  position: z.number().int().min(0).max(100000).optional(),
});
/** `GET /canned-replies?language=`. */
export const cannedReplyQuery = z.object({ language: language.optional() });

/** `/api/canned-replies`: read by every agent (the reply box's picker), changed by administrators. */
export function cannedReplyRoutes(deps: { auth: Auth; db: Db }): Router {
  const r = Router();
  const admin = requireRole(deps.auth, 'admin');

  r.get('/canned-replies', requireRole(deps.auth, 'agent'), async (req, res) => {
    const q = parse(cannedReplyQuery, req.query, 'query');
    res.json({ cannedReplies: await listCannedReplies(deps.db, q.language) });
  });
  r.post('/canned-replies', admin, async (req, res) => {
    res.status(201).json({ cannedReply: await insertCannedReply(deps.db, parse(cannedReplyBody, req.body)) });
  });
  r.patch('/canned-replies/:id', admin, async (req, res) => {
    const { id } = parse(idParam, req.params, 'id');
    const row = await updateCannedReply(deps.db, id, parse(cannedReplyPatch, req.body));
    if (!row) throw new NotFoundError('canned reply', id);
    res.json({ cannedReply: row });
  });
  r.delete('/canned-replies/:id', admin, async (req, res) => {
    const { id } = parse(idParam, req.params, 'id');
    if (!(await deleteCannedReply(deps.db, id))) throw new NotFoundError('canned reply', id);
    res.status(204).end();
  });
  return r;
}
