import { asc } from 'drizzle-orm';
import { Router } from 'express';
import { hashPassword } from '../../auth/passwords.ts';
import type { Auth } from '../../auth/sessions.ts';
import { ConflictError, NotFoundError } from '../../errors.ts';
import { insertAgent, listAgentsForAdmin, toAdminAgentView, updateAgent } from '../../store/agents.ts';
import type { Db } from '../../store/db.ts';
import type { RuleCache } from '../../store/rules.ts';
import { insertQueue, listQueues, updateQueue } from '../../store/queue-settings.ts';
import { routingRules } from '../../store/schema.ts';
import { requireRole } from '../middleware.ts';
import { idParam, newAgentBody, newQueueBody, newRuleBody, updateAgentBody, updateQueueBody } from '../schemas.ts';
import { parse } from '../validate.ts';

const isUniqueViolation = (err: unknown) =>
  (err as { code?: string; cause?: { code?: string } })?.code === '23505' ||
  (err as { cause?: { code?: string } })?.cause?.code === '23505';

/** Agents, queues and routing rules: read by supervisors, changed by administrators. */
export function adminRoutes(deps: { auth: Auth; db: Db; rules: RuleCache }): Router {
  const r = Router();
  const supervisor = requireRole(deps.auth, 'supervisor');
  const admin = requireRole(deps.auth, 'admin');

  r.get('/agents', supervisor, async (_req, res) => {
    res.json({ agents: await listAgentsForAdmin(deps.db) });
  });
  r.post('/agents', admin, async (req, res) => {
    const { password, ...body } = parse(newAgentBody, req.body);
    const agent = await insertAgent(deps.db, { ...body, passwordHash: await hashPassword(password) });
    if (!agent) throw new ConflictError(`username ${body.username} is taken`, 'username_taken');
    res.status(201).json({ agent: toAdminAgentView(agent) });
  });
  r.patch('/agents/:id', admin, async (req, res) => {
    const { id } = parse(idParam, req.params, 'id');
    const { password, ...patch } = parse(updateAgentBody, req.body);
    const agent = await updateAgent(deps.db, id, { ...patch, ...(password ? { passwordHash: await hashPassword(password) } : {}) });
    if (!agent) throw new NotFoundError('agent', id);
    // Disabled: their sessions end now and their consoles are disconnected, not at the next expiry.
    if (patch.disabled) await deps.auth.revokeAgent(id);
    res.json({ agent: toAdminAgentView(agent) });
  });

  r.get('/queues', requireRole(deps.auth, 'agent'), async (_req, res) => {
    res.json({ queues: await listQueues(deps.db) });
  });
  r.post('/queues', admin, async (req, res) => {
    const body = parse(newQueueBody, req.body);
    try {
      res.status(201).json({ queue: await insertQueue(deps.db, body) });
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError(`a queue named ${body.name} exists`, 'name_taken');
      throw err;
    }
  });
  r.patch('/queues/:id', admin, async (req, res) => {
    const { id } = parse(idParam, req.params, 'id');
    const patch = parse(updateQueueBody, req.body);
    try {
      const queue = await updateQueue(deps.db, id, patch);
      if (!queue) throw new NotFoundError('queue', id);
      res.json({ queue });
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError(`a queue named ${String(patch.name)} exists`, 'name_taken');
      throw err;
    }
  });

  r.get('/rules', supervisor, async (_req, res) => {
    res.json({ rules: await deps.db.select().from(routingRules).orderBy(asc(routingRules.position)) });
  });
  r.post('/rules', admin, async (req, res) => {
    const body = parse(newRuleBody, req.body);
    const [rule] = await deps.db.insert(routingRules).values(body).returning();
    deps.rules.invalidate();
    res.status(201).json({ rule });
  });
  return r;
}
