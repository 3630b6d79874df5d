/**
 * Assignment writes: offering conversations to agents, accepting, resolving,
 * returning offers to the queue. Every write is an optimistic take: it only
 * applies where the version, status or capacity still match, so concurrent
 * processes never assign one conversation twice nor overfill an agent.
 */
import { and, asc, desc, eq, inArray, lt, sql } from 'drizzle-orm';
import type { Presence, Resolution } from '../domain/types.ts';
import type { Assignment, AssignmentPolicy } from '../routing/policy.ts';
import type { Db, DbOrTx, Tx } from './db.ts';
import { recordEvent } from './conversations.ts';
import { agents, conversations } from './schema.ts';

/** Serialises dispatch passes across processes so queue order holds globally. */
const DISPATCH_LOCK = 7_351_002;

/** A version, status or capacity guard did not match: retry with fresh data. */
export class OptimisticConflict extends Error {
  constructor(what: string) {
    super(`optimistic conflict on ${what}`);
  }
}

/** Number of scored conversations waiting in a queue. */
export async function countWaiting(db: DbOrTx): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(conversations)
    .where(and(eq(conversations.status, 'queued'), sql`${conversations.queueId} is not null`));
  return row?.n ?? 0;
}

async function offer(tx: Tx, a: Assignment): Promise<void> {
  const took = await tx
    .update(agents)
    .set({ load: sql`${agents.load} + ${a.weight}`, idleSince: sql`now()`, version: sql`${agents.version} + 1` })
    .where(
      and(
        eq(agents.id, a.agentId),
        eq(agents.presence, 'available'),
        eq(agents.disabled, false),
        sql`${agents.load} + ${a.weight} <= ${agents.capacity}`,
      ),
    )
    .returning({ id: agents.id });
  if (took.length === 0) throw new OptimisticConflict(`agent ${a.agentId}`);
  const offered = await tx
    .update(conversations)
    .set({
      status: 'offered',
      agentId: a.agentId,
      offeredAt: sql`now()`,
      firstOfferedAt: sql`coalesce(${conversations.firstOfferedAt}, now())`,
      version: sql`${conversations.version} + 1`,
    })
    .where(
      and(eq(conversations.id, a.conversationId), eq(conversations.version, a.conversationVersion), eq(conversations.status, 'queued')),
    )
    .returning({ id: conversations.id });
  if (offered.length === 0) throw new OptimisticConflict(`conversation ${a.conversationId}`);
  await recordEvent(tx, {
    conversationId: a.conversationId,
    type: 'conversation.offered',
    actorType: 'system',
    data: { agentId: a.agentId, priority: a.priority, reason: a.reason },
  });
}

/**
 * One dispatch pass: snapshot waiting conversations and agents with room,
 * let the policy pick, and take each pick optimistically. The whole pass is
 * one transaction under an advisory lock; a conflict rolls it back and the
 * caller retries.
 */
export async function dispatchOnce(db: Db, policy: AssignmentPolicy, limit = 200): Promise<Assignment[]> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${DISPATCH_LOCK})`);
    const slots = await tx
      .select({ id: agents.id, load: agents.load, capacity: agents.capacity, idleSince: agents.idleSince, queueIds: agents.queueIds })
      .from(agents)
      .where(and(eq(agents.presence, 'available'), eq(agents.disabled, false), lt(agents.load, agents.capacity)));
    if (slots.length === 0) return [];
    const waiting = await tx
      .select({
        id: conversations.id,
        version: conversations.version,
        priority: conversations.priority,
        queuedAt: conversations.queuedAt,
        queueId: conversations.queueId,
        weight: conversations.weight,
      })
      .from(conversations)
      .where(and(eq(conversations.status, 'queued'), sql`${conversations.queueId} is not null`))
      .orderBy(desc(conversations.priority), asc(conversations.queuedAt))
      .limit(limit);
    if (waiting.length === 0) return [];
    const plan = policy(waiting, slots, new Date());
    for (const assignment of plan) await offer(tx, assignment);
    return plan;
  });
}

/** The agent takes an offered conversation. Returns false when it is no longer offered to them. */
export async function acceptOffer(db: Db, conversationId: string, agentId: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const rows = await tx
      .update(conversations)
      .set({ status: 'active', acceptedAt: sql`coalesce(${conversations.acceptedAt}, now())`, version: sql`${conversations.version} + 1` })
      .where(and(eq(conversations.id, conversationId), eq(conversations.agentId, agentId), eq(conversations.status, 'offered')))
      .returning({ id: conversations.id });
    if (rows.length === 0) return false;
    await recordEvent(tx, { conversationId, type: 'conversation.accepted', actorType: 'agent', actorId: agentId });
    return true;
  });
}

async function releaseLoad(tx: Tx, agentId: string, weight: number): Promise<void> {
  await tx
    .update(agents)
    .set({ load: sql`greatest(${agents.load} - ${weight}, 0)`, version: sql`${agents.version} + 1` })
    .where(eq(agents.id, agentId));
}

/** The conversation still has inbound messages no worker has routed (pushed to a console). */
export class UnroutedMessages extends Error {
  constructor() {
    super('a new message arrived in this conversation; read it before resolving');
  }
}

/**
 * Resolves an open conversation and frees its agent's capacity. Refuses
 * (UnroutedMessages) while an inbound message is still on its way to the
 * console, so nothing the citizen wrote is closed away unseen.
 * Returns the agent that held it (null if none), or undefined if it was not open.
 */
export async function resolveConversation(
  db: Db,
  conversationId: string,
  resolution: Resolution,
  actor: { type: 'agent' | 'system'; id?: string },
): Promise<{ agentId: string | null } | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(conversations)
      .set({ status: 'resolved', resolution, resolvedAt: sql`now()`, version: sql`${conversations.version} + 1` })
      .where(
        and(
          eq(conversations.id, conversationId),
          inArray(conversations.status, ['queued', 'offered', 'active', 'on_hold']),
          sql`not exists (select 1 from outbox o where o.conversation_id = ${conversations.id}
                and o.kind = 'route' and o.processed_at is null)`,
        ),
      )
      .returning({ agentId: conversations.agentId, weight: conversations.weight, status: conversations.status });
    if (!row) {
      const [current] = await tx.select({ status: conversations.status }).from(conversations).where(eq(conversations.id, conversationId));
      if (current && ['queued', 'offered', 'active', 'on_hold'].includes(current.status)) throw new UnroutedMessages();
      return undefined;
    }
    if (row.agentId) await releaseLoad(tx, row.agentId, row.weight);
    await recordEvent(tx, { conversationId, type: 'conversation.resolved', actorType: actor.type, actorId: actor.id, data: { resolution } });
    return { agentId: row.agentId };
  });
}

/** Returns an agent's unaccepted offers to the queue (the agent went away). Returns their ids. */
export async function requeueOffers(db: Db, agentId: string, reason: string): Promise<string[]> {
  return db.transaction(async (tx) => {
    const rows = await tx
      .update(conversations)
      .set({ status: 'queued', agentId: null, offeredAt: null, version: sql`${conversations.version} + 1` })
      .where(and(eq(conversations.agentId, agentId), eq(conversations.status, 'offered')))
      .returning({ id: conversations.id, weight: conversations.weight });
    const weight = rows.reduce((sum, r) => sum + r.weight, 0);
    if (weight > 0) await releaseLoad(tx, agentId, weight);
    for (const r of rows) {
      await recordEvent(tx, { conversationId: r.id, type: 'conversation.requeued', actorType: 'system', data: { agentId, reason } });
    }
    return rows.map((r) => r.id);
  });
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

/**
 * Puts a closed conversation back in the queue, unless the contact already
 * has another open one. Returns whether it was reopened.
 */
export async function reopenConversation(db: Db, conversationId: string, reason: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const rows = await tx
      .update(conversations)
      .set({
        status: 'queued',
        agentId: null,
        resolution: null,
        resolvedAt: null,
        offeredAt: null,
        queuedAt: sql`now()`,
        version: sql`${conversations.version} + 1`,
      })
      .where(
        and(
          eq(conversations.id, conversationId),
          inArray(conversations.status, ['resolved', 'abandoned']),
          sql`not exists (select 1 from conversations o where o.contact_id = ${conversations.contactId}
                and o.status in ('queued', 'offered', 'active', 'on_hold'))`,
        ),
      )
      .returning({ id: conversations.id });
    if (rows.length === 0) return false;
    await recordEvent(tx, { conversationId, type: 'conversation.reopened', actorType: 'system', data: { reason } });
    return true;
  });
}
