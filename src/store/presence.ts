/**
 * Agent presence writes: the presence an agent sets, and the do-not-disturb
 * the system sets while the agent handles a voice call, restored after it.
 */
import { and, eq, ne, sql } from 'drizzle-orm';
import type { Presence } from '../domain/types.ts';
import { recordEvent } from './conversations.ts';
import type { DbOrTx, Tx } from './db.ts';
import { agents, calls, conversations } from './schema.ts';

const callInProgress = (conversationId: unknown) =>
  sql`exists (select 1 from ${calls} where ${calls.conversationId} = ${conversationId} and ${calls.status} in ('ringing', 'in-progress'))`;

/** Do-not-disturb while the agent handles a voice call; the presence before is kept to restore. */
export async function setDndForCall(tx: Tx, conversationId: string, agentId: string): Promise<boolean> {
  const [inCall] = await tx.select({ yes: sql<boolean>`${callInProgress(conversationId)}` }).from(sql`(select 1) as one`);
  if (!inCall?.yes) return false;
  const [before] = await tx.select({ presence: agents.presence }).from(agents).where(eq(agents.id, agentId));
  const rows = await tx
    .update(agents)
    .set({
      presenceBeforeDnd: sql`coalesce(${agents.presenceBeforeDnd}, ${agents.presence})`,
      presence: 'dnd',
      presenceSince: sql`now()`,
      version: sql`${agents.version} + 1`,
    })
    .where(and(eq(agents.id, agentId), ne(agents.presence, 'dnd')))
    .returning({ id: agents.id });
  if (rows.length === 0) return false;
  await recordEvent(tx, { conversationId, type: 'agent.dnd', actorType: 'system', data: { agentId, before: before?.presence ?? null, reason: 'voice call in progress' } });
  return true;
}

/**
 * Restores the presence an agent had before the system set do-not-disturb
 * for a voice call, once they no longer hold an active voice conversation
 * with a call in progress. Call when a voice conversation leaves the agent
 * (resolved, transferred). Returns the restored presence, if any.
 */
export async function restorePresenceAfterCall(tx: DbOrTx, agentId: string, conversationId: string): Promise<Presence | undefined> {
  const [row] = await tx
    .update(agents)
    .set({ presence: sql`${agents.presenceBeforeDnd}`, presenceBeforeDnd: null, presenceSince: sql`now()`, version: sql`${agents.version} + 1` })
    .where(
      and(
        eq(agents.id, agentId),
        eq(agents.presence, 'dnd'),
        sql`${agents.presenceBeforeDnd} is not null`,
        sql`not exists (select 1 from ${conversations} c where c.agent_id = ${agentId} and c.id <> ${conversationId}
              and c.status in ('active', 'on_hold') and c.channel = 'voice' and ${callInProgress(sql`c.id`)})`,
      ),
    )
    .returning({ presence: agents.presence });
  if (!row) return undefined;
  await recordEvent(tx, { conversationId, type: 'agent.presence_restored', actorType: 'system', data: { agentId, presence: row.presence } });
  return row.presence;
}

/** Sets an agent's presence; returns the previous one. */
export async function setPresence(db: DbOrTx, agentId: string, presence: Presence): Promise<Presence | undefined> {
  const [before] = await db.select({ presence: agents.presence }).from(agents).where(eq(agents.id, agentId));
  if (!before) return undefined;
  await db
    .update(agents)
    .set({
      presence,
      presenceSince: sql`now()`,
      version: sql`${agents.version} + 1`,
    })
    .where(eq(agents.id, agentId));
  return before.presence;
}
