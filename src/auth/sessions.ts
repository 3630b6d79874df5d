/**
 * Login and session tokens. A token is random; only its hash is stored.
 * Tokens are cached per process for a few seconds so an authenticated socket
 * event or API call costs no query; a revocation through this module clears
 * the cache at once and tells `onRevoked` (which disconnects live consoles);
 * an expiry takes effect within the cache time.
 */
import { AuthenticationError } from '../errors.ts';
import type { Role } from '../domain/types.ts';
import type { Db } from '../store/db.ts';
import { findSessionAgent, getAgentByUsername, insertSession, revokeAgentSessions, revokeSession } from '../store/agents.ts';
import type { AgentRow } from '../store/schema.ts';
import { hashToken, randomSecret, verifyPassword } from './passwords.ts';

export interface Actor {
  agentId: string;
  role: Role;
  displayName: string;
  username: string;
  /** When the session authenticated as this actor ends (absent for actors made by the system). */
  sessionExpiresAt?: Date;
}

export interface Auth {
  login(username: string, password: string): Promise<{ token: string; agent: AgentRow }>;
  authenticate(token: string | undefined): Promise<Actor>;
  logout(token: string): Promise<void>;
  /** Ends every session of an agent (disabled by an administrator). */
  revokeAgent(agentId: string): Promise<void>;
}

/** What was revoked: one session (by its token hash) or all of an agent's. */
export type Revocation = { tokenHash: string } | { agentId: string };

/** The session key of a token as stored: sockets are grouped by it to be disconnected on logout. */
export const sessionKey = (token: string): string => hashToken(token);

const CACHE_MS = 5000;
// A constant-time answer for unknown users: verify against a real hash anyway.
const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$lWpMjNne1e10KXUNkN6BQQ$aZNDDEAPLVwUMDNmuYoAzphBDU2EgoelZ76JonGmUGs';

export function createAuth(db: Db, ttlHours: number, onRevoked: (revoked: Revocation) => void = () => undefined): Auth {
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
      // A cached session is good for a few seconds, and never past its expiry.
      if (hit && Date.now() - hit.at < CACHE_MS && Date.now() < (hit.actor.sessionExpiresAt?.getTime() ?? Infinity)) return hit.actor;
      const agent = await findSessionAgent(db, key);
      if (!agent) {
        cache.delete(key);
        throw new AuthenticationError('session expired or revoked; log in again');
      }
      const actor: Actor = {
        agentId: agent.id,
        role: agent.role,
        displayName: agent.displayName,
        username: agent.username,
        sessionExpiresAt: agent.sessionExpiresAt,
      };
      if (cache.size > 10000) cache.clear();
      cache.set(key, { at: Date.now(), actor });
      return actor;
    },
    async logout(token) {
      const key = hashToken(token);
      cache.delete(key);
      await revokeSession(db, key);
      onRevoked({ tokenHash: key });
    },
    async revokeAgent(agentId) {
      for (const [key, hit] of cache) if (hit.actor.agentId === agentId) cache.delete(key);
      await revokeAgentSessions(db, agentId);
      onRevoked({ agentId });
    },
  };
}
