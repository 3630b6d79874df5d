/**
 * Assignment writes: offering conversations to agents, accepting, resolving,
 * returning offers to the queue. Every write is an optimistic take: it only
 * applies where the version, status or capacity still match, so concurrent
 * processes never assign one conversation twice nor overfill an agent.
 */
import { and, asc, desc, eq, inArray, lt, ne, sql } from 'drizzle-orm';
import type { Presence, Resolution } from '../domain/types.ts';
import type { Assignment, AssignmentPolicy } from '../routing/policy.ts';
import type { Db, DbOrTx, Tx } from './db.ts';
import { recordEvent } from './conversations.ts';
import { restorePresenceAfterCall, setDndForCall } from './presence.ts';
import { agents, conversations, type ConversationRow } from './schema.ts';

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

/** An offer made by a dispatch pass: `offeredVersion` is the conversation's version the offer holds. */
export interface Offer extends Assignment {
  offeredVersion: number;
}

/**
 * Which agents have a console connected (on any process), of those asked.
 * Injected by the composition root; the store cannot see sockets.
 */
export type ConsoleProbe = (agentIds: readonly string[]) => Promise<ReadonlySet<string>>;

/**
 * Offers one conversation. `preferred` is the callback window's offer to the
 * agent who handled the citizen's emergency: it bypasses capacity and
 * presence (except offline) and the agent need not be the longest idle.
 */
async function offer(tx: Tx, a: Assignment, preferred = false): Promise<Offer> {
  const took = await tx
    .update(agents)
    .set({ load: sql`${agents.load} + ${a.weight}`, idleSince: sql`now()`, version: sql`${agents.version} + 1` })
    .where(
      preferred
        ? and(eq(agents.id, a.agentId), ne(agents.presence, 'offline'), eq(agents.disabled, false))
        : and(
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
    .returning({ id: conversations.id, version: conversations.version });
  const [row] = offered;
  if (!row) throw new OptimisticConflict(`conversation ${a.conversationId}`);
  await recordEvent(tx, {
    conversationId: a.conversationId,
    type: 'conversation.offered',
    actorType: 'system',
    data: { agentId: a.agentId, priority: a.priority, reason: a.reason, ...(preferred ? { preferred: true } : {}) },
  });
  return { ...a, offeredVersion: row.version };
}

/**
 * Callback-window conversations waiting for the agent who handled the
 * citizen's emergency: offered to that agent whatever their load and
 * presence, when they are signed in (not offline or disabled, a console
 * connected). Otherwise they wait at the top of the queue for anyone.
 */
async function offerPreferred(tx: Tx, reachable: ConsoleProbe | undefined): Promise<Offer[]> {
  const rows = await tx
    .select({
      id: conversations.id,
      version: conversations.version,
      priority: conversations.priority,
      weight: conversations.weight,
      agentId: agents.id,
    })
    .from(conversations)
    .innerJoin(agents, eq(agents.id, conversations.preferredAgentId))
    .where(and(eq(conversations.status, 'queued'), ne(agents.presence, 'offline'), eq(agents.disabled, false)))
    .orderBy(desc(conversations.priority), asc(conversations.queuedAt));
  if (rows.length === 0 || !reachable) return [];
  const connected = await reachable([...new Set(rows.map((r) => r.agentId))]);
  const made: Offer[] = [];
  for (const r of rows) {
    if (!connected.has(r.agentId)) continue;
    const assignment: Assignment = {
      conversationId: r.id,
      conversationVersion: r.version,
      agentId: r.agentId,
      weight: r.weight,
      priority: r.priority,
      reason: 'callback window: the agent who handled the emergency',
    };
    made.push(await offer(tx, assignment, true));
  }
  return made;
}

/**
 * One dispatch pass: snapshot waiting conversations and agents with room,
 * let the policy pick, and take each pick optimistically. The whole pass is
 * one transaction under an advisory lock; a conflict rolls it back and the
 * caller retries.
 */
export async function dispatchOnce(
  db: Db,
  policy: AssignmentPolicy,
  limit = 200,
  options: { reachable?: ConsoleProbe } = {},
): Promise<Offer[]> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${DISPATCH_LOCK})`);
    const preferred = await offerPreferred(tx, options.reachable);
    const slots = await tx
      .select({ id: agents.id, load: agents.load, capacity: agents.capacity, idleSince: agents.idleSince, queueIds: agents.queueIds })
      .from(agents)
      .where(and(eq(agents.presence, 'available'), eq(agents.disabled, false), lt(agents.load, agents.capacity)));
    if (slots.length === 0) return preferred;
    const waiting = await tx
      .select({
        id: conversations.id,
        version: conversations.version,
        priority: conversations.priority,
        queuedAt: conversations.queuedAt,
        queueId: conversations.queueId,
        weight: conversations.weight,
        // Agents whose offer of it timed out within the queue's offer timeout: someone else first.
        excludedAgentIds: sql<string[]>`(select coalesce(array_agg(e.data->>'agentId'), '{}') from events e
            join queues q on q.id = conversations.queue_id
           where e.conversation_id = conversations.id and e.type = 'offer.timed_out'
             and e.created_at > now() - q.offer_timeout_seconds * interval '1 second')`,
      })
      .from(conversations)
      .where(and(eq(conversations.status, 'queued'), sql`${conversations.queueId} is not null`))
      .orderBy(desc(conversations.priority), asc(conversations.queuedAt))
      .limit(limit);
    if (waiting.length === 0) return preferred;
    const plan = policy(waiting, slots, new Date());
    const made = [...preferred];
    for (const assignment of plan) made.push(await offer(tx, assignment));
    return made;
  });
}

/** What an accept did. */
export interface Accepted {
  /** The agent another offer was taken from (an escalated conversation offered to all). */
  takenFrom: string | null;
  /** When the conversation entered the queue: one acknowledgement per queueing. */
  queuedAt: Date;
  channel: ConversationRow['channel'];
  /** The agent was set do-not-disturb for a voice call in progress. */
  dnd: boolean;
  /** Seconds from opening to this accept when it is the conversation's first; null for a later one. */
  answerSeconds: number | null;
}

/**
 * The agent takes a conversation: one offered to them, or an escalated one
 * still waiting (offered to every available agent: the first accept wins,
 * whoever it is currently offered to, and may exceed the agent's capacity).
 * Resets the agent's missed offers; a voice conversation with its call in
 * progress sets the agent do-not-disturb (restored when it is resolved).
 * Returns undefined when it can no longer be taken by them.
 */
export async function acceptOffer(db: Db, conversationId: string, agentId: string): Promise<Accepted | undefined> {
  return db.transaction(async (tx) => {
    const [current] = await tx
      .select({
        status: conversations.status,
        agentId: conversations.agentId,
        weight: conversations.weight,
        escalatedAt: conversations.escalatedAt,
        acceptedAt: conversations.acceptedAt,
        version: conversations.version,
      })
      .from(conversations)
      .where(eq(conversations.id, conversationId))
      .for('update');
    if (!current) return undefined;
    const own = current.status === 'offered' && current.agentId === agentId;
    const escalatedWaiting = current.escalatedAt !== null && (current.status === 'queued' || current.status === 'offered');
    if (!own && !escalatedWaiting) return undefined;
    if (!own) {
      const [agent] = await tx
        .select({ id: agents.id })
        .from(agents)
        .where(and(eq(agents.id, agentId), eq(agents.disabled, false), ne(agents.presence, 'offline')));
      if (!agent) return undefined;
    }
    const [row] = await tx
      .update(conversations)
      .set({
        status: 'active',
        agentId,
        acceptedAt: sql`coalesce(${conversations.acceptedAt}, now())`,
        preferredAgentId: null,
        version: sql`${conversations.version} + 1`,
      })
      .where(and(eq(conversations.id, conversationId), eq(conversations.version, current.version)))
      .returning({
        queuedAt: conversations.queuedAt,
        channel: conversations.channel,
        answerSeconds: sql<number>`extract(epoch from ${conversations.acceptedAt} - ${conversations.openedAt})::float8`,
      });
    if (!row) return undefined;
    const takenFrom = !own && current.status === 'offered' && current.agentId ? current.agentId : null;
    if (takenFrom) await releaseLoad(tx, takenFrom, current.weight);
    await tx
      .update(agents)
      .set({ missedOffers: 0, ...(own ? {} : { load: sql`${agents.load} + ${current.weight}` }), version: sql`${agents.version} + 1` })
      .where(eq(agents.id, agentId));
    await recordEvent(tx, {
      conversationId,
      type: 'conversation.accepted',
      actorType: 'agent',
      actorId: agentId,
      data: own ? {} : { escalated: true, takenFrom },
    });
    const dnd = row.channel === 'voice' && (await setDndForCall(tx, conversationId, agentId));
    return { takenFrom, queuedAt: row.queuedAt, channel: row.channel, dnd, answerSeconds: current.acceptedAt === null ? Number(row.answerSeconds) : null };
  });
}

export async function releaseLoad(tx: Tx, agentId: string, weight: number): Promise<void> {
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
): Promise<{ agentId: string | null; restoredPresence?: Presence; emergency: boolean; resolvedAt: Date } | undefined> {
  return db.transaction(async (tx) => {
    const [before] = await tx
      .select({ callbackRequestedAt: conversations.callbackRequestedAt })
      .from(conversations)
      .where(eq(conversations.id, conversationId));
    const [row] = await tx
      .update(conversations)
      .set({ status: 'resolved', resolution, resolvedAt: sql`now()`, callbackRequestedAt: null, version: sql`${conversations.version} + 1` })
      .where(
        and(
          eq(conversations.id, conversationId),
          inArray(conversations.status, ['queued', 'offered', 'active', 'on_hold']),
          sql`not exists (select 1 from outbox o where o.conversation_id = ${conversations.id}
                and o.kind = 'route' and o.processed_at is null)`,
        ),
      )
      .returning({
        agentId: conversations.agentId,
        weight: conversations.weight,
        status: conversations.status,
        emergency: conversations.emergency,
        resolvedAt: conversations.resolvedAt,
      });
    if (!row) {
      const [current] = await tx.select({ status: conversations.status }).from(conversations).where(eq(conversations.id, conversationId));
      if (current && ['queued', 'offered', 'active', 'on_hold'].includes(current.status)) throw new UnroutedMessages();
      return undefined;
    }
    if (row.agentId) await releaseLoad(tx, row.agentId, row.weight);
    await recordEvent(tx, { conversationId, type: 'conversation.resolved', actorType: actor.type, actorId: actor.id, data: { resolution } });
    if (before?.callbackRequestedAt) {
      await recordEvent(tx, { conversationId, type: 'callback.done', actorType: actor.type, actorId: actor.id, data: { reason: 'resolved' } });
    }
    const restoredPresence = row.agentId ? await restorePresenceAfterCall(tx, row.agentId, conversationId) : undefined;
    return { agentId: row.agentId, restoredPresence, emergency: row.emergency, resolvedAt: row.resolvedAt as Date };
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
