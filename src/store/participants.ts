/**
 * Shared conversations: participants besides the owner, invitations, and the
 * conversation's log of events as the console shows it. An invitation is an
 * audit event (`participant.invited`); it is pending until the invitee joins
 * or is invited off by a later `participant.left`.
 */
import { and, asc, desc, eq, gt, inArray, isNull, like, or, sql } from 'drizzle-orm';
import { OPEN_STATUSES } from '../domain/types.ts';
import type { ConversationEventView } from '../realtime/events.ts';
import type { DbOrTx } from './db.ts';
import { agents, conversationParticipants, conversations, events, queues } from './schema.ts';

/** Whether the agent shares the conversation now (joined and not left). */
export async function isActiveParticipant(db: DbOrTx, conversationId: string, agentId: string): Promise<boolean> {
  const [row] = await db
    .select({ agentId: conversationParticipants.agentId })
    .from(conversationParticipants)
    .where(
      and(
        eq(conversationParticipants.conversationId, conversationId),
        eq(conversationParticipants.agentId, agentId),
        isNull(conversationParticipants.leftAt),
      ),
    );
  return row !== undefined;
}

/** Adds (or brings back) a participant. Returns false when they already were one. */
export async function addParticipant(db: DbOrTx, conversationId: string, agentId: string, invitedBy: string | null): Promise<boolean> {
  const rows = await db
    .insert(conversationParticipants)
    .values({ conversationId, agentId, invitedBy })
    .onConflictDoUpdate({
      target: [conversationParticipants.conversationId, conversationParticipants.agentId],
      set: { leftAt: null, joinedAt: sql`now()`, invitedBy },
      setWhere: sql`${conversationParticipants.leftAt} is not null`,
    })
    .returning({ agentId: conversationParticipants.agentId });
  return rows.length > 0;
}

/** Marks a participant as gone. Returns false when they were not one. */
export async function removeParticipant(db: DbOrTx, conversationId: string, agentId: string): Promise<boolean> {
  const rows = await db
    .update(conversationParticipants)
    .set({ leftAt: sql`now()` })
    .where(
      and(
        eq(conversationParticipants.conversationId, conversationId),
        eq(conversationParticipants.agentId, agentId),
        isNull(conversationParticipants.leftAt),
      ),
    )
    .returning({ agentId: conversationParticipants.agentId });
  return rows.length > 0;
}

/** Active participants with their names and roles, first joined first. */
export async function listParticipants(db: DbOrTx, conversationId: string) {
  return db
    .select({ agentId: agents.id, displayName: agents.displayName, role: agents.role })
    .from(conversationParticipants)
    .innerJoin(agents, eq(agents.id, conversationParticipants.agentId))
    .where(and(eq(conversationParticipants.conversationId, conversationId), isNull(conversationParticipants.leftAt)))
    .orderBy(asc(conversationParticipants.joinedAt));
}

const MEMBERSHIP_EVENTS = ['participant.invited', 'participant.joined', 'participant.left'];

/** The inviter of the agent's pending invitation to the conversation, or undefined when there is none. */
export async function pendingInvitation(db: DbOrTx, conversationId: string, agentId: string): Promise<{ invitedBy: string | null } | undefined> {
  const [last] = await db
    .select({ type: events.type, actorId: events.actorId })
    .from(events)
    .where(and(eq(events.conversationId, conversationId), inArray(events.type, MEMBERSHIP_EVENTS), sql`${events.data}->>'agentId' = ${agentId}`))
    .orderBy(desc(events.id))
    .limit(1);
  return last?.type === 'participant.invited' ? { invitedBy: last.actorId } : undefined;
}

/** Open conversations the agent shares or is invited to (and does not own). */
export async function listSharedConversationIds(db: DbOrTx, agentId: string): Promise<string[]> {
  const rows = await db.execute<{ id: string }>(sql`
    select c.id from conversations c
    where c.status in ${sql.raw(`(${OPEN_STATUSES.map((s) => `'${s}'`).join(', ')})`)}
      and c.agent_id is distinct from ${agentId}
      and (
        exists (select 1 from conversation_participants p where p.conversation_id = c.id and p.agent_id = ${agentId} and p.left_at is null)
        or (select e.type from events e where e.conversation_id = c.id
              and e.type in ('participant.invited', 'participant.joined', 'participant.left') and e.data->>'agentId' = ${agentId}
              order by e.id desc limit 1) = 'participant.invited'
      )
    limit 500`);
  return [...rows].map((r) => r.id);
}

/**
 * Appends an audit event and returns its id, so the console can be pushed
 * exactly that entry.
 */
export async function appendEvent(
  db: DbOrTx,
  event: { conversationId: string; type: string; actorId: string | null; data?: Record<string, unknown> },
): Promise<number> {
  const [row] = await db
    .insert(events)
    .values({ conversationId: event.conversationId, type: event.type, actorType: event.actorId ? 'agent' : 'system', actorId: event.actorId, data: event.data ?? {} })
    .returning({ id: events.id });
  if (!row) throw new Error('event insert returned nothing');
  return row.id;
}

const LOG_TYPES = or(like(events.type, 'conversation.%'), like(events.type, 'participant.%'), like(events.type, 'call%'));

const eventColumns = { e: events, actorName: agents.displayName };

function toEventView(row: { e: typeof events.$inferSelect; actorName: string | null }): ConversationEventView {
  return {
    id: row.e.id,
    conversationId: row.e.conversationId ?? '',
    type: row.e.type,
    actorName: row.actorName,
    data: row.e.data,
    at: row.e.createdAt.toISOString(),
  };
}

/**
 * A conversation's log for agents: its audit events that say what happened
 * to it (not delivery receipts), oldest first, led by when it was raised.
 */
export async function listConversationEvents(db: DbOrTx, conversationId: string, afterId = 0): Promise<ConversationEventView[]> {
  const rows = await db
    .select(eventColumns)
    .from(events)
    .leftJoin(agents, sql`${agents.id}::text = ${events.actorId}`)
    .where(and(eq(events.conversationId, conversationId), gt(events.id, afterId), LOG_TYPES))
    .orderBy(asc(events.id))
    .limit(1000);
  const views = rows.map(toEventView);
  if (afterId > 0) return views;
  const [opened] = await db.select({ at: conversations.openedAt }).from(conversations).where(eq(conversations.id, conversationId));
  // Raising is not an audit event of its own (ingest opens the conversation with its first message).
  const raised: ConversationEventView[] = opened
    ? [{ id: 0, conversationId, type: 'conversation.raised', actorName: null, data: {}, at: opened.at.toISOString() }]
    : [];
  return [...raised, ...views];
}

/** One event as the log shows it; `type` picks the latest of that type when no id is known. */
export async function getConversationEvent(db: DbOrTx, conversationId: string, which: { id: number } | { type: string }): Promise<ConversationEventView | undefined> {
  const [row] = await db
    .select(eventColumns)
    .from(events)
    .leftJoin(agents, sql`${agents.id}::text = ${events.actorId}`)
    .where(and(eq(events.conversationId, conversationId), 'id' in which ? eq(events.id, which.id) : eq(events.type, which.type)))
    .orderBy(desc(events.id))
    .limit(1);
  return row ? toEventView(row) : undefined;
}

/** Queues by name, for transfers and the supervisor panel. */
export async function listQueueNames(db: DbOrTx): Promise<Array<{ id: string; name: string }>> {
  return db.select({ id: queues.id, name: queues.name }).from(queues).orderBy(asc(queues.name));
}

export async function getQueueName(db: DbOrTx, id: string): Promise<string | undefined> {
  const [row] = await db.select({ name: queues.name }).from(queues).where(eq(queues.id, id));
  return row?.name;
}
