/**
 * Agents and their login sessions.
 */
import { and, asc, eq, gt, isNull, sql } from 'drizzle-orm';
import type { Role } from '../domain/types.ts';
import type { AgentView } from '../realtime/events.ts';
import type { DbOrTx } from './db.ts';
import { agents, sessions, type AgentRow } from './schema.ts';

/** The public view of an agent: never the password hash. */
export function toAgentView(a: AgentRow): AgentView {
  return {
    id: a.id,
    username: a.username,
    displayName: a.displayName,
    role: a.role,
    presence: a.presence,
    capacity: a.capacity,
    load: a.load,
  };
}

/** What administrators (and supervisors, on `GET /api/agents`) see of an agent: its settings too, never the password hash. */
export interface AdminAgentView extends AgentView {
  email: string | null;
  phone: string | null;
  skills: string[];
  languages: string[];
  queueIds: string[];
  disabled: boolean;
}

export function toAdminAgentView(a: AgentRow): AdminAgentView {
  return {
    ...toAgentView(a),
    email: a.email,
    phone: a.phone,
    skills: a.skills,
    languages: a.languages,
    queueIds: a.queueIds,
    disabled: a.disabled,
  };
}

export async function getAgent(db: DbOrTx, id: string): Promise<AgentRow | undefined> {
  const [row] = await db.select().from(agents).where(eq(agents.id, id));
  return row;
}

export async function getAgentByUsername(db: DbOrTx, username: string): Promise<AgentRow | undefined> {
  const [row] = await db.select().from(agents).where(eq(agents.username, username));
  return row;
}

export async function listAgents(db: DbOrTx): Promise<AgentView[]> {
  const rows = await db.select().from(agents).orderBy(asc(agents.username));
  return rows.map(toAgentView);
}

/** Every agent with its settings, for the admin API. */
export async function listAgentsForAdmin(db: DbOrTx): Promise<AdminAgentView[]> {
  const rows = await db.select().from(agents).orderBy(asc(agents.username));
  return rows.map(toAdminAgentView);
}

export interface NewAgent {
  username: string;
  displayName: string;
  passwordHash: string;
  role: Role;
  capacity: number;
  skills?: string[];
  languages?: string[];
  queueIds?: string[];
  email?: string | null;
  phone?: string | null;
}

/** Inserts an agent; undefined when the username is taken. */
export async function insertAgent(db: DbOrTx, agent: NewAgent): Promise<AgentRow | undefined> {
  const [row] = await db.insert(agents).values(agent).onConflictDoNothing({ target: agents.username }).returning();
  return row;
}

export async function updateAgent(
  db: DbOrTx,
  id: string,
  patch: Partial<Pick<AgentRow, 'displayName' | 'role' | 'capacity' | 'disabled' | 'passwordHash' | 'skills' | 'languages' | 'queueIds' | 'email' | 'phone'>>,
): Promise<AgentRow | undefined> {
  if (Object.keys(patch).length === 0) return getAgent(db, id);
  const [row] = await db
    .update(agents)
    .set({ ...patch, version: sql`${agents.version} + 1` })
    .where(eq(agents.id, id))
    .returning();
  return row;
}

export async function insertSession(db: DbOrTx, agentId: string, tokenHash: string, ttlHours: number): Promise<void> {
  await db.insert(sessions).values({
    agentId,
    tokenHash,
    expiresAt: sql`now() + ${`${ttlHours} hours`}::interval`,
  });
}

/** The agent behind a live session token hash (not expired, not revoked, agent enabled). */
export async function findSessionAgent(db: DbOrTx, tokenHash: string): Promise<(AgentRow & { sessionExpiresAt: Date }) | undefined> {
  const [row] = await db
    .select({ agent: agents, expiresAt: sessions.expiresAt })
    .from(sessions)
    .innerJoin(agents, eq(agents.id, sessions.agentId))
    .where(and(eq(sessions.tokenHash, tokenHash), isNull(sessions.revokedAt), gt(sessions.expiresAt, sql`now()`), eq(agents.disabled, false)));
  return row ? { ...row.agent, sessionExpiresAt: row.expiresAt } : undefined;
}

export async function revokeSession(db: DbOrTx, tokenHash: string): Promise<void> {
  await db.update(sessions).set({ revokedAt: sql`now()` }).where(eq(sessions.tokenHash, tokenHash));
}

/** Revokes every live session of an agent (disabled: re-enabling must not bring old tokens back). */
export async function revokeAgentSessions(db: DbOrTx, agentId: string): Promise<void> {
  await db.update(sessions).set({ revokedAt: sql`now()` }).where(and(eq(sessions.agentId, agentId), isNull(sessions.revokedAt)));
}
