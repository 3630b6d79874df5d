/**
 * Login and session tokens. A token is random; only its hash is stored.
 * Tokens are cached per process for a few seconds so an authenticated socket
 * event or API call costs no query; revocation takes effect within that time.
 */
import { AuthenticationError } from '../errors.ts';
import type { Role } from '../domain/types.ts';
import type { Db } from '../store/db.ts';
import { findSessionAgent, getAgentByUsername, insertSession, revokeSession } from '../store/agents.ts';
import type { AgentRow } from '../store/schema.ts';
import { hashToken, randomSecret, verifyPassword } from './passwords.ts';

export interface Actor {
  agentId: string;
  role: Role;
  displayName: string;
  username: string;
}

export interface Auth {
  login(username: string, password: string): Promise<{ token: string; agent: AgentRow }>;
  authenticate(token: string | undefined): Promise<Actor>;
  logout(token: string): Promise<void>;
}

const CACHE_MS = 5000;
// A constant-time answer for unknown users: verify against a real hash anyway.
const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$lWpMjNne1e10KXUNkN6BQQ$aZNDDEAPLVwUMDNmuYoAzphBDU2EgoelZ76JonGmUGs';

export function createAuth(db: Db, ttlHours: number): Auth {
  const cache = new Map<string, { at: number; actor: Actor }>();
  return {
    async login(username, password) {
      const agent = await getAgentByUsername(db, username);
      const ok = await verifyPassword(agent?.passwordHash ?? DUMMY_HASH, password);
      if (!agent || !ok || agent.disabled) throw new AuthenticationError('wrong username or password');
      const token = randomSecret(32);
      await insertSession(db, agent.id, hashToken(token), ttlHours);
      return { token, agent };
    },
    async authenticate(token) {
      if (!token) throw new AuthenticationError();
      const key = hashToken(token);
      const hit = cache.get(key);
      if (hit && Date.now() - hit.at < CACHE_MS) return hit.actor;
      const agent = await findSessionAgent(db, key);
      if (!agent) {
        cache.delete(key);
        throw new AuthenticationError('session expired or revoked; log in again');
      }
      const actor: Actor = { agentId: agent.id, role: agent.role, displayName: agent.displayName, username: agent.username };
      if (cache.size > 10000) cache.clear();
      cache.set(key, { at: Date.now(), actor });
      return actor;
    },
    async logout(token) {
      const key = hashToken(token);
      cache.delete(key);
      await revokeSession(db, key);
    },
  };
}
