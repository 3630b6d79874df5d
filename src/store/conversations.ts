/**
 * Conversation and message queries for the console and the workers.
 */
import { and, asc, desc, eq, gt, inArray, isNotNull, isNull, or, sql } from 'drizzle-orm';
import type { ConversationStatus, DeliveryStatus } from '../domain/types.ts';
import { DELIVERY_STATUSES, deliveryAdvances, OPEN_STATUSES } from '../domain/types.ts';
import type { AttachmentView, CitizenMessageView, ConversationView, MessageView } from '../realtime/events.ts';
import type { DbOrTx } from './db.ts';
import { agents, contacts, conversations, events, messages, type Attachment, type ConversationRow, type MessageRow } from './schema.ts';

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

function contactDisplay(channel: string, address: string, name: string | null): string {
  if (name) return name;
  if (channel === 'webchat') return `Web chat visitor ${address.slice(0, 6)}`;
  return address;
}

const conversationColumns = {
  c: conversations,
  contactKind: contacts.channel,
  contactAddress: contacts.address,
  contactName: contacts.name,
  agentName: agents.displayName,
  // Correlated on the participants primary key: cheap per row.
  participantIds: sql<string[]>`array(select p.agent_id::text from conversation_participants p
    where p.conversation_id = ${conversations.id} and p.left_at is null order by p.joined_at)`,
};

type ConversationJoin = {
  c: ConversationRow;
  contactKind: string;
  contactAddress: string;
  contactName: string | null;
  agentName: string | null;
  participantIds: string[];
};

function toConversationView(row: ConversationJoin): ConversationView {
  const c = row.c;
  return {
    id: c.id,
    channel: c.channel,
    status: c.status,
    priority: c.priority,
    queueId: c.queueId,
    agentId: c.agentId,
    agentName: row.agentName,
    contact: {
      id: c.contactId,
      display: contactDisplay(c.channel, row.contactAddress, row.contactName),
      name: row.contactName,
      phone: row.contactKind === 'phone' ? row.contactAddress : null,
    },
    openedAt: c.openedAt.toISOString(),
    queuedAt: c.queuedAt.toISOString(),
    offeredAt: iso(c.offeredAt),
    acceptedAt: iso(c.acceptedAt),
    resolvedAt: iso(c.resolvedAt),
    lastMessageAt: c.lastMessageAt.toISOString(),
    resolution: c.resolution,
    confidential: c.confidential,
    callbackRequestedAt: iso(c.callbackRequestedAt),
    participantIds: row.participantIds ?? [],
    escalatedAt: iso(c.escalatedAt),
    emergency: c.emergency,
    previousConversationId: c.previousConversationId,
    preferredAgentId: c.preferredAgentId,
    version: c.version,
  };
}

/** One conversation as the console shows it, or undefined. */
export async function getConversationView(db: DbOrTx, id: string): Promise<ConversationView | undefined> {
  const [row] = await db
    .select(conversationColumns)
    .from(conversations)
    .innerJoin(contacts, eq(contacts.id, conversations.contactId))
    .leftJoin(agents, eq(agents.id, conversations.agentId))
    .where(eq(conversations.id, id));
  return row ? toConversationView(row) : undefined;
}

/**
 * Open conversations, highest priority then oldest first: all of them
 * (agentId undefined), or an agent's: those they hold or are offered, and
 * those offered to everyone (escalated and still waiting; not confidential
 * ones, which only the agents in them may open).
 */
export async function listOpenConversations(db: DbOrTx, agentId?: string): Promise<ConversationView[]> {
  const open = inArray(conversations.status, [...OPEN_STATUSES]);
  const offeredToAll = and(
    isNotNull(conversations.escalatedAt),
    inArray(conversations.status, ['queued', 'offered']),
    eq(conversations.confidential, false),
  );
  const rows = await db
    .select(conversationColumns)
    .from(conversations)
    .innerJoin(contacts, eq(contacts.id, conversations.contactId))
    .leftJoin(agents, eq(agents.id, conversations.agentId))
    .where(agentId ? and(open, or(eq(conversations.agentId, agentId), offeredToAll)) : open)
    .orderBy(desc(conversations.priority), asc(conversations.queuedAt))
    .limit(500);
  return rows.map(toConversationView);
}

/** Raw conversation row. */
export async function getConversation(db: DbOrTx, id: string): Promise<ConversationRow | undefined> {
  const [row] = await db.select().from(conversations).where(eq(conversations.id, id));
  return row;
}

const messageColumns = { m: messages, authorName: agents.displayName };

/** The API path of a message's attachment content (served by src/http/routes/attachments.ts). */
export function attachmentPath(messageId: number, index: number): string {
  return `/api/messages/${messageId}/attachments/${index}`;
}

/**
 * What the console sees of a message's attachments. Only stored content gets
 * a url, and only the gateway's own path: the console sends its token with it.
 */
export function toAttachmentViews(messageId: number, attachments: readonly Attachment[]): AttachmentView[] {
  return attachments.map(({ name, contentType, size, sha256 }, index) => ({
    name,
    contentType,
    size,
    ...(sha256 ? { url: attachmentPath(messageId, index) } : {}),
  }));
}

function toMessageView(row: { m: MessageRow; authorName: string | null }): MessageView {
  const m = row.m;
  return {
    id: m.id,
    conversationId: m.conversationId,
    direction: m.direction,
    body: m.body,
    attachments: toAttachmentViews(m.id, m.attachments),
    deliveryStatus: m.deliveryStatus,
    deliveryError: m.deliveryError,
    authorName: row.authorName,
    clientMessageId: m.clientMessageId,
    createdAt: m.createdAt.toISOString(),
  };
}

/** Messages of a conversation after a given id (0 for all), oldest first. */
export async function listMessages(db: DbOrTx, conversationId: string, afterId = 0, limit = 1000): Promise<MessageView[]> {
  const rows = await db
    .select(messageColumns)
    .from(messages)
    .leftJoin(agents, eq(agents.id, messages.authorAgentId))
    .where(and(eq(messages.conversationId, conversationId), gt(messages.id, afterId)))
    .orderBy(asc(messages.id))
    .limit(limit);
  return rows.map(toMessageView);
}

/** The latest `limit` messages the citizen sent in a conversation (content not purged), oldest first. */
export async function lastInboundMessages(
  db: DbOrTx,
  conversationId: string,
  limit: number,
): Promise<Array<{ body: string; attachments: Attachment[]; createdAt: Date }>> {
  const rows = await db
    .select({ body: messages.body, attachments: messages.attachments, createdAt: messages.createdAt })
    .from(messages)
    .where(and(eq(messages.conversationId, conversationId), eq(messages.direction, 'inbound'), isNull(messages.purgedAt)))
    .orderBy(desc(messages.id))
    .limit(limit);
  return rows.reverse();
}

/** One message as the console shows it. */
export async function getMessageView(db: DbOrTx, id: number): Promise<MessageView | undefined> {
  const [row] = await db
    .select(messageColumns)
    .from(messages)
    .leftJoin(agents, eq(agents.id, messages.authorAgentId))
    .where(eq(messages.id, id));
  return row ? toMessageView(row) : undefined;
}

/** A message's conversation and stored attachment list, for serving one attachment. */
export async function getMessageAttachments(
  db: DbOrTx,
  messageId: number,
): Promise<{ conversationId: string; attachments: Attachment[] } | undefined> {
  const [row] = await db
    .select({ conversationId: messages.conversationId, attachments: messages.attachments })
    .from(messages)
    .where(eq(messages.id, messageId));
  return row;
}

/** Strips what a citizen must not see from a message view; notes become undefined. */
export function toCitizenView(m: MessageView): CitizenMessageView | undefined {
  if (m.direction === 'note') return undefined;
  return {
    id: m.id,
    direction: m.direction,
    body: m.body,
    deliveryStatus: m.deliveryStatus,
    authorName: m.direction === 'outbound' ? m.authorName : null,
    clientMessageId: m.direction === 'inbound' ? m.clientMessageId : null,
    createdAt: m.createdAt,
  };
}

/** Messages a web-chat citizen may see across their contact's conversations, after an id. */
export async function listCitizenMessages(db: DbOrTx, contactId: string, afterId: number): Promise<CitizenMessageView[]> {
  const rows = await db
    .select(messageColumns)
    .from(messages)
    .innerJoin(conversations, eq(conversations.id, messages.conversationId))
    .leftJoin(agents, eq(agents.id, messages.authorAgentId))
    .where(and(eq(conversations.contactId, contactId), gt(messages.id, afterId), inArray(messages.direction, ['inbound', 'outbound', 'system'])))
    .orderBy(asc(messages.id))
    .limit(1000);
  return rows.map(toMessageView).flatMap((m) => toCitizenView(m) ?? []);
}

/** Appends an audit event. */
export async function recordEvent(
  db: DbOrTx,
  event: { conversationId: string | null; type: string; actorType: 'system' | 'agent' | 'citizen'; actorId?: string | null; data?: Record<string, unknown> },
): Promise<void> {
  await db.insert(events).values({
    conversationId: event.conversationId,
    type: event.type,
    actorType: event.actorType,
    actorId: event.actorId ?? null,
    data: event.data ?? {},
  });
}

/**
 * Moves a message's delivery status forward (never back from delivered).
 * Returns the conversation id when the status changed.
 */
export async function setDeliveryStatus(
  db: DbOrTx,
  messageId: number,
  status: DeliveryStatus,
  extra: { error?: string | null; channelMessageId?: string } = {},
): Promise<{ conversationId: string } | undefined> {
  const allowedFrom = DELIVERY_STATUSES.filter((current) => deliveryAdvances(current, status));
  const [row] = await db
    .update(messages)
    .set({
      deliveryStatus: status,
      deliveryError: extra.error ?? null,
      updatedAt: sql`now()`,
      ...(extra.channelMessageId ? { channelMessageId: extra.channelMessageId } : {}),
    })
    .where(and(eq(messages.id, messageId), inArray(messages.deliveryStatus, allowedFrom)))
    .returning({ conversationId: messages.conversationId });
  if (!row) return undefined;
  await recordEvent(db, {
    conversationId: row.conversationId,
    type: 'message.status',
    actorType: 'system',
    data: { messageId, status, error: extra.error ?? null },
  });
  return row;
}

/** Status of a conversation only, for cheap checks. */
export async function getConversationStatus(db: DbOrTx, id: string): Promise<ConversationStatus | undefined> {
  const [row] = await db.select({ status: conversations.status }).from(conversations).where(eq(conversations.id, id));
  return row?.status;
}
