import { Router } from 'express';
import type { Auth } from '../../auth/sessions.ts';
import { AuthenticationError } from '../../errors.ts';
import { getAgent, toAgentView } from '../../store/agents.ts';
import type { Db } from '../../store/db.ts';
import { actorOf, bearerToken, requireRole } from '../middleware.ts';
import { loginBody } from '../schemas.ts';
import { parse } from '../validate.ts';

/** `/api/auth`: login, logout, who am I. */
export function authRoutes(deps: { auth: Auth; db: Db }): Router {
  const r = Router();
  r.post('/login', async (req, res) => {
    const body = parse(loginBody, req.body);
    const { token, agent } = await deps.auth.login(body.username, body.password);
    res.json({ token, agent: toAgentView(agent) });
  });
  r.post('/logout', requireRole(deps.auth, 'agent'), async (req, res) => {
    await deps.auth.logout(bearerToken(req) as string);
    res.status(204).end();
  });
  r.get('/me', requireRole(deps.auth, 'agent'), async (_req, res) => {
    const agent = await getAgent(deps.db, actorOf(res).agentId);
    if (!agent) throw new AuthenticationError();
    res.json({ agent: toAgentView(agent) });
  });
  return r;
}
