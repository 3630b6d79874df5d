/**
 * The state changes timers make: an offer expiring, a conversation
 * escalating, an emergency flag, a new conversation linked to the one
 * before it. Each is guarded by the state the timer was set for, so a stale
 * or repeated timer changes nothing.
 */
import { and, desc, eq, inArray, isNull, lt, ne, or, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from './db.ts';
import { releaseLoad } from './assignments.ts';
import { recordEvent } from './conversations.ts';
import { agents, conversations, events } from './schema.ts';

/** Priority points an escalation adds. */
export const ESCALATION_PRIORITY_BOOST = 1000;

export interface ExpiredOffer {
  queueId: string | null;
  missedOffers: number;
  /** The agent's presence now (`available` unless they changed it). */
  presence: string;
}

/**
 * Returns an offer that was not accepted in time to the queue, if it is
 * still the offer the timer was set for (same agent, same version). The
 * agent's missed offers count up; the callback-window preference for them is
 * dropped so the conversation goes to someone else.
 */
export async function expireOffer(db: Db, o: { conversationId: string; agentId: string; version: number; timeoutSeconds: number }): Promise<ExpiredOffer | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(conversations)
      .set({
        status: 'queued',
        agentId: null,
        offeredAt: null,
        preferredAgentId: sql`case when ${conversations.preferredAgentId} = ${o.agentId}::uuid then null else ${conversations.preferredAgentId} end`,
        version: sql`${conversations.version} + 1`,
      })
      .where(
        and(
          eq(conversations.id, o.conversationId),
          eq(conversations.status, 'offered'),
          eq(conversations.agentId, o.agentId),
          eq(conversations.version, o.version),
        ),
      )
      .returning({ weight: conversations.weight, queueId: conversations.queueId });
    if (!row) return undefined;
    await releaseLoad(tx, o.agentId, row.weight);
    const [agent] = await tx
      .update(agents)
      .set({ missedOffers: sql`${agents.missedOffers} + 1`, version: sql`${agents.version} + 1` })
      .where(eq(agents.id, o.agentId))
      .returning({ missedOffers: agents.missedOffers, presence: agents.presence });
    await recordEvent(tx, {
      conversationId: o.conversationId,
      type: 'offer.timed_out',
      actorType: 'system',
      data: { agentId: o.agentId, timeoutSeconds: o.timeoutSeconds, missedOffers: agent?.missedOffers ?? 0 },
    });
    return { queueId: row.queueId, missedOffers: agent?.missedOffers ?? 0, presence: agent?.presence ?? 'offline' };
  });
}

/** Starts a new streak of missed offers (the agent was set away for the last one). */
export async function resetMissedOffers(db: DbOrTx, agentId: string): Promise<void> {
  await db.update(agents).set({ missedOffers: 0 }).where(eq(agents.id, agentId));
}

/**
 * Escalates a conversation still waiting since `queuedAt`: marked, raised by
 * ESCALATION_PRIORITY_BOOST. Returns the new priority and time, or undefined
 * when it was accepted, closed, requeued anew or escalated already.
 */
export async function escalateConversation(
  db: Db,
  o: { conversationId: string; queuedAt: Date; reason: string; answerTargetSeconds: number },
): Promise<{ priority: number; escalatedAt: Date } | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(conversations)
      .set({
        escalatedAt: sql`now()`,
        priority: sql`${conversations.priority} + ${ESCALATION_PRIORITY_BOOST}`,
        version: sql`${conversations.version} + 1`,
      })
      .where(
        and(
          eq(conversations.id, o.conversationId),
          inArray(conversations.status, ['queued', 'offered']),
          // Dates carry milliseconds; the column keeps microseconds.
          sql`date_trunc('milliseconds', ${conversations.queuedAt}) = ${o.queuedAt.toISOString()}::timestamptz`,
          or(isNull(conversations.escalatedAt), lt(conversations.escalatedAt, conversations.queuedAt)),
        ),
      )
      .returning({ priority: conversations.priority, escalatedAt: conversations.escalatedAt });
    if (!row?.escalatedAt) return undefined;
    await recordEvent(tx, {
      conversationId: o.conversationId,
      type: 'conversation.escalated',
      actorType: 'system',
      data: { reason: o.reason, answerTargetSeconds: o.answerTargetSeconds, priority: row.priority },
    });
    await recordEvent(tx, {
      conversationId: o.conversationId,
      type: 'conversation.prioritised',
      actorType: 'system',
      data: { priority: row.priority, reason: 'escalated', added: ESCALATION_PRIORITY_BOOST },
    });
    return { priority: row.priority, escalatedAt: row.escalatedAt };
  });
}

/**
 * Flags a conversation as an emergency (the callback window applies after
 * it). Returns false when it was flagged already or does not exist.
 */
export async function flagEmergency(db: Db, conversationId: string, actor: { agentId: string }): Promise<boolean> {
  return db.transaction(async (tx) => {
    const rows = await tx
      .update(conversations)
      .set({ emergency: true, version: sql`${conversations.version} + 1` })
      .where(and(eq(conversations.id, conversationId), eq(conversations.emergency, false)))
      .returning({ id: conversations.id });
    if (rows.length === 0) return false;
    await recordEvent(tx, { conversationId, type: 'conversation.emergency_flagged', actorType: 'agent', actorId: actor.agentId });
    return true;
  });
}

/** The contact's conversation before this one, closed. */
export interface PreviousConversation {
  id: string;
  agentId: string | null;
  queueId: string | null;
  emergency: boolean;
  resolution: string | null;
  resolvedAt: Date | null;
}

/** The contact's latest closed conversation opened before `conversationId`, if any. */
export async function findPreviousConversation(db: DbOrTx, c: { id: string; contactId: string; openedAt: Date }): Promise<PreviousConversation | undefined> {
  const [row] = await db
    .select({
      id: conversations.id,
      agentId: conversations.agentId,
      queueId: conversations.queueId,
      emergency: conversations.emergency,
      resolution: conversations.resolution,
      resolvedAt: conversations.resolvedAt,
    })
    .from(conversations)
    .where(
      and(
        eq(conversations.contactId, c.contactId),
        ne(conversations.id, c.id),
        inArray(conversations.status, ['resolved', 'abandoned']),
        sql`${conversations.openedAt} <= ${c.openedAt.toISOString()}::timestamptz`,
      ),
    )
    .orderBy(desc(conversations.openedAt))
    .limit(1);
  return row;
}

/**
 * Links a fresh conversation to the one before it, once. With a preferred
 * agent (the callback window) it also goes to the top of the queue
 * (`priority`) and to that agent first. Returns whether it changed.
 */
export async function linkToPrevious(
  db: Db,
  o: { conversationId: string; previousConversationId: string; reason: 'inactivity' | 'callback_window'; preferredAgentId: string | null; priority?: number },
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const rows = await tx
      .update(conversations)
      .set({
        previousConversationId: o.previousConversationId,
        ...(o.preferredAgentId ? { preferredAgentId: o.preferredAgentId } : {}),
        ...(o.priority !== undefined ? { priority: sql`greatest(${conversations.priority}, ${o.priority})` } : {}),
        version: sql`${conversations.version} + 1`,
      })
      .where(and(eq(conversations.id, o.conversationId), isNull(conversations.previousConversationId)))
      .returning({ priority: conversations.priority });
    if (rows.length === 0) return false;
    await recordEvent(tx, {
      conversationId: o.conversationId,
      type: o.reason === 'callback_window' ? 'callback_window.matched' : 'conversation.linked',
      actorType: 'system',
      data: { previousConversationId: o.previousConversationId, reason: o.reason, preferredAgentId: o.preferredAgentId, priority: rows[0]?.priority },
    });
    return true;
  });
}

/**
 * The id of the latest `conversation.offered` event of a conversation (0 if
 * none): bounce-backs are sent once per cause until an agent is back, i.e.
 * once per cause between offers.
 */
export async function lastOfferEventId(db: DbOrTx, conversationId: string): Promise<number> {
  const [row] = await db
    .select({ id: events.id })
    .from(events)
    .where(and(eq(events.conversationId, conversationId), eq(events.type, 'conversation.offered')))
    .orderBy(desc(events.id))
    .limit(1);
  return row?.id ?? 0;
}

/** Whether a conversation was closed by the inactivity timer. */
export async function closedForInactivity(db: DbOrTx, conversationId: string): Promise<boolean> {
  const [row] = await db
    .select({ id: events.id })
    .from(events)
    .where(and(eq(events.conversationId, conversationId), eq(events.type, 'conversation.timed_out')))
    .limit(1);
  return row !== undefined;
}

/** Agents signed in for a queue: not offline, not disabled, serving it (their console is checked apart). */
export async function signedInAgentIds(db: DbOrTx, queueId: string): Promise<string[]> {
  const rows = await db
    .select({ id: agents.id })
    .from(agents)
    .where(
      and(
        ne(agents.presence, 'offline'),
        eq(agents.disabled, false),
        sql`(cardinality(${agents.queueIds}) = 0 or ${queueId}::uuid = any(${agents.queueIds}))`,
      ),
    );
  return rows.map((r) => r.id);
}

/** Conversations waiting in a queue. */
export async function countWaitingIn(db: DbOrTx, queueId: string): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(conversations)
    .where(and(eq(conversations.status, 'queued'), eq(conversations.queueId, queueId)));
  return row?.n ?? 0;
}

/** Available agents (for an escalation offered to all). */
export async function availableAgentIds(db: DbOrTx): Promise<string[]> {
  const rows = await db.select({ id: agents.id }).from(agents).where(and(eq(agents.presence, 'available'), eq(agents.disabled, false)));
  return rows.map((r) => r.id);
}

/** Supervisors (and administrators) with an e-mail address, not disabled. */
export async function supervisorsToAlert(db: DbOrTx): Promise<Array<{ id: string; email: string }>> {
  const rows = await db
    .select({ id: agents.id, email: agents.email })
    .from(agents)
    .where(and(inArray(agents.role, ['supervisor', 'admin']), eq(agents.disabled, false), sql`coalesce(${agents.email}, '') <> ''`));
  return rows.map((r) => ({ id: r.id, email: r.email as string }));
}
