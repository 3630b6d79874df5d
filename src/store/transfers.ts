/**
 * Moving a conversation between people: a transfer to an agent (offered to
 * them, under the same guards as routing) or to a queue, and a supervisor's
 * takeover. Optimistic like every assignment write (see assignments.ts).
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Tx } from './db.ts';
import { OptimisticConflict, releaseLoad } from './assignments.ts';
import { agents, conversations } from './schema.ts';

/** Why a transfer to an agent could not offer them the conversation. */
export class AgentUnavailable extends Error {
  constructor(agentId: string) {
    super(`agent ${agentId} is not available or has no free capacity`);
  }
}

/** What a transfer did: the previous owner and the state the new offer or queueing is at (its timers key on it). */
export interface Transferred {
  fromAgentId: string | null;
  version: number;
  queuedAt: Date;
  queueId: string | null;
}

/**
 * Moves an open conversation to another agent (offered to them, taken under
 * the same presence and capacity guards as routing) or to a queue (waiting
 * there again, entering it now: its answer target counts from the transfer).
 * The previous owner's load is freed. Run inside a transaction. Returns
 * undefined when the conversation is not open.
 */
export async function transferConversation(
  tx: Tx,
  conversationId: string,
  to: { agentId: string } | { queueId: string },
): Promise<Transferred | undefined> {
  const [current] = await tx
    .select({ agentId: conversations.agentId, weight: conversations.weight })
    .from(conversations)
    .where(and(eq(conversations.id, conversationId), inArray(conversations.status, ['queued', 'offered', 'active', 'on_hold'])))
    .for('update');
  if (!current) return undefined;
  if ('agentId' in to) {
    const took = await tx
      .update(agents)
      .set({ load: sql`${agents.load} + ${current.weight}`, idleSince: sql`now()`, version: sql`${agents.version} + 1` })
      .where(
        and(
          eq(agents.id, to.agentId),
          eq(agents.presence, 'available'),
          eq(agents.disabled, false),
          sql`${agents.load} + ${current.weight} <= ${agents.capacity}`,
        ),
      )
      .returning({ id: agents.id });
    if (took.length === 0) throw new AgentUnavailable(to.agentId);
  }
  const [row] = await tx
    .update(conversations)
    .set(
      'agentId' in to
        ? { status: 'offered', agentId: to.agentId, offeredAt: sql`now()`, firstOfferedAt: sql`coalesce(${conversations.firstOfferedAt}, now())`, version: sql`${conversations.version} + 1` }
        : { status: 'queued', agentId: null, offeredAt: null, queueId: to.queueId, queuedAt: sql`now()`, version: sql`${conversations.version} + 1` },
    )
    .where(eq(conversations.id, conversationId))
    .returning({ version: conversations.version, queuedAt: conversations.queuedAt, queueId: conversations.queueId });
  if (!row) throw new OptimisticConflict(`conversation ${conversationId}`);
  if (current.agentId) await releaseLoad(tx, current.agentId, current.weight);
  return { fromAgentId: current.agentId, ...row };
}

/**
 * A supervisor takes an open conversation over: they own it, active, whatever
 * their capacity (an override). The previous owner's load is freed. Run
 * inside a transaction. Returns the previous owner, or undefined when the
 * conversation is not open.
 */
export async function takeOverConversation(tx: Tx, conversationId: string, supervisorId: string): Promise<{ fromAgentId: string | null } | undefined> {
  const [current] = await tx
    .select({ agentId: conversations.agentId, weight: conversations.weight, status: conversations.status })
    .from(conversations)
    .where(and(eq(conversations.id, conversationId), inArray(conversations.status, ['queued', 'offered', 'active', 'on_hold'])))
    .for('update');
  if (!current) return undefined;
  if (current.agentId === supervisorId && current.status !== 'offered' && current.status !== 'queued') return { fromAgentId: supervisorId };
  await tx
    .update(conversations)
    .set({
      agentId: supervisorId,
      status: current.status === 'on_hold' ? 'on_hold' : 'active',
      acceptedAt: sql`coalesce(${conversations.acceptedAt}, now())`,
      version: sql`${conversations.version} + 1`,
    })
    .where(eq(conversations.id, conversationId));
  if (current.agentId !== supervisorId) {
    if (current.agentId) await releaseLoad(tx, current.agentId, current.weight);
    await tx
      .update(agents)
      .set({ load: sql`${agents.load} + ${current.weight}`, version: sql`${agents.version} + 1` })
      .where(eq(agents.id, supervisorId));
  }
  return { fromAgentId: current.agentId };
}
