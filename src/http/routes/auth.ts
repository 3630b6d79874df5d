import { Router } from 'express';
import type { Auth } from '../../auth/sessions.ts';
import { AuthenticationError } from '../../errors.ts';
import { getAgent, toAgentView } from '../../store/agents.ts';
import type { Db } from '../../store/db.ts';
import { actorOf, bearerToken, requireRole } from '../middleware.ts';
import { KeyedRateLimiter, RateLimitedError, rateLimit, type RateLimit } from '../rate-limit.ts';
import { loginBody } from '../schemas.ts';
import { parse } from '../validate.ts';

/**
 * Login limits. Every attempt from an address costs a token (each one costs
 * an argon2 verification); only failed attempts cost a username's, so a
 * signed-in console reloading does not count against its agent.
 */
export const LOGIN_LIMITS: { perAddress: RateLimit; failuresPerUsername: RateLimit } = {
  perAddress: { burst: 30, perMinute: 30 },
  failuresPerUsername: { burst: 10, perMinute: 10 },
};

/** `/api/auth`: login, logout, who am I. */
export function authRoutes(deps: { auth: Auth; db: Db; loginLimits?: typeof LOGIN_LIMITS }): Router {
  const r = Router();
  const limits = deps.loginLimits ?? LOGIN_LIMITS;
  const perAddress = new KeyedRateLimiter(limits.perAddress);
  const failures = new KeyedRateLimiter(limits.failuresPerUsername);
  r.post('/login', rateLimit([{ limiter: perAddress, key: (req) => req.ip ?? 'unknown', what: 'address' }]), async (req, res) => {
    const body = parse(loginBody, req.body);
    const username = body.username.trim().toLowerCase();
    // A username whose failures used up its bucket is refused before any password is checked.
    const blocked = failures.peek(username);
    if (blocked > 0) {
      res.set('Retry-After', String(blocked));
      throw new RateLimitedError(`too many failed logins for this username; try again in ${blocked} s`, blocked);
    }
    try {
      const { token, agent } = await deps.auth.login(body.username, body.password);
      res.json({ token, agent: toAgentView(agent) });
    } catch (err) {
      if (err instanceof AuthenticationError) failures.take(username);
      throw err;
    }
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
