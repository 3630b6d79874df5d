/**
 * The one ingest path. Every adapter's InboundMessage lands here: a duplicate
 * channel message id is dropped; otherwise the contact's open conversation is
 * found or opened and the message and its outbox row are committed in one
 * transaction, then the routing job is enqueued. A failed enqueue loses
 * nothing: the sweeper re-enqueues unacknowledged outbox rows.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { InboundMessage, IngestResult } from '../channel.ts';
import { ValidationError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Db, Tx } from '../store/db.ts';
import { contacts, conversations, events, messages, outbox } from '../store/schema.ts';
import type { Enqueuer } from '../queue/enqueue.ts';

export interface IngestDeps {
  db: Db;
  enqueue: Enqueuer;
  log: Logger;
  maxMessageChars: number;
}

/** The message was stored by an earlier delivery of the same channel message id. */
class DuplicateMessage extends Error {
  constructor(readonly existing: IngestResult) {
    super('duplicate channel message');
  }
}

const OPEN = sql`status in ('queued', 'offered', 'active', 'on_hold')`;

async function findDuplicate(db: Db | Tx, msg: InboundMessage): Promise<IngestResult | undefined> {
  const [row] = await db
    .select({ id: messages.id, conversationId: messages.conversationId, contactId: conversations.contactId })
    .from(messages)
    .innerJoin(conversations, eq(conversations.id, messages.conversationId))
    .where(and(eq(messages.channelLinkId, msg.channelLinkId), eq(messages.channelMessageId, msg.channelMessageId)));
  return row && { conversationId: row.conversationId, messageId: row.id, contactId: row.contactId, duplicate: true };
}

function validate(msg: InboundMessage, maxChars: number): void {
  if (!msg.channelMessageId) throw new ValidationError('channel message id is required', 'channelMessageId');
  if (!msg.from) throw new ValidationError('sender address is required', 'from');
  if (msg.text.length > maxChars) throw new ValidationError(`text is longer than ${maxChars} characters`, 'text');
  if (!msg.text.trim() && !msg.attachments?.length && !msg.location) {
    throw new ValidationError('a message needs text, an attachment or a location', 'text');
  }
}

async function findOrOpenConversation(tx: Tx, msg: InboundMessage, contactId: string): Promise<{ id: string; opened: boolean }> {
  const [open] = await tx.select({ id: conversations.id }).from(conversations).where(and(eq(conversations.contactId, contactId), OPEN));
  if (open) return { id: open.id, opened: false };
  const [created] = await tx
    .insert(conversations)
    .values({ channel: msg.channel, channelLinkId: msg.channelLinkId, contactId, location: msg.location ?? null })
    .onConflictDoNothing({ target: conversations.contactId, where: OPEN })
    .returning({ id: conversations.id });
  if (created) return { id: created.id, opened: true };
  // A concurrent message from the same contact opened it first.
  const [raced] = await tx.select({ id: conversations.id }).from(conversations).where(and(eq(conversations.contactId, contactId), OPEN));
  if (!raced) throw new Error('open conversation vanished during ingest');
  return { id: raced.id, opened: false };
}

/**
 * Stores one inbound message exactly once and schedules its routing.
 * Resolves only after the commit, so callers may acknowledge the channel.
 */
export async function ingest(deps: IngestDeps, msg: InboundMessage): Promise<IngestResult> {
  validate(msg, deps.maxMessageChars);
  const earlier = await findDuplicate(deps.db, msg);
  if (earlier) return earlier;

  let outboxId = 0;
  let result: IngestResult;
  try {
    result = await deps.db.transaction(async (tx) => {
      const [contact] = await tx
        .insert(contacts)
        .values({ channel: msg.channel, address: msg.from, name: msg.fromName ?? null })
        .onConflictDoUpdate({
          target: [contacts.channel, contacts.address],
          set: { name: sql`coalesce(excluded.name, ${contacts.name})` },
        })
        .returning({ id: contacts.id });
      if (!contact) throw new Error('contact upsert returned nothing');
      const conversation = await findOrOpenConversation(tx, msg, contact.id);
      const [message] = await tx
        .insert(messages)
        .values({
          conversationId: conversation.id,
          channelLinkId: msg.channelLinkId,
          channelMessageId: msg.channelMessageId,
          direction: 'inbound',
          body: msg.text,
          attachments: msg.attachments ?? [],
          deliveryStatus: 'received',
          clientMessageId: msg.channel === 'webchat' ? msg.channelMessageId : null,
          receivedAt: msg.receivedAt,
        })
        .onConflictDoNothing({ target: [messages.channelLinkId, messages.channelMessageId] })
        .returning({ id: messages.id });
      if (!message) {
        const existing = await findDuplicate(tx, msg);
        if (!existing) throw new Error('duplicate message not found after conflict');
        throw new DuplicateMessage(existing);
      }
      await tx
        .update(conversations)
        .set({
          lastMessageAt: sql`now()`,
          ...(msg.location && !conversation.opened ? { location: msg.location } : {}),
        })
        .where(eq(conversations.id, conversation.id));
      if (conversation.opened) {
        await tx.insert(events).values({
          conversationId: conversation.id,
          type: 'conversation.opened',
          actorType: 'citizen',
          actorId: contact.id,
          data: { channel: msg.channel, channelLinkId: msg.channelLinkId },
        });
      }
      const [row] = await tx
        .insert(outbox)
        .values({ kind: 'route', conversationId: conversation.id, messageId: message.id })
        .returning({ id: outbox.id });
      outboxId = row?.id ?? 0;
      return { conversationId: conversation.id, messageId: message.id, contactId: contact.id, duplicate: false };
    });
  } catch (err) {
    if (err instanceof DuplicateMessage) return err.existing;
    throw err;
  }

  try {
    await deps.enqueue.route({ outboxId, conversationId: result.conversationId, messageId: result.messageId });
  } catch (err) {
    // Committed already: the sweeper will enqueue it. The channel may be acknowledged.
    deps.log.error({ err, conversationId: result.conversationId, outboxId }, 'enqueue after commit failed; left to the sweeper');
  }
  return result;
}
