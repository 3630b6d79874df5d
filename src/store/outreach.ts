/**
 * Conversations the PSAP starts (text-from-911): the contact found or created
 * under the same key ingest would use, and the conversation opened active and
 * assigned to the agent who starts it, holding its weight on their load.
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import { contactKeyOf } from '../domain/contacts.ts';
import { OPEN_STATUSES, type Channel } from '../domain/types.ts';
import { ConflictError } from '../errors.ts';
import type { Db } from './db.ts';
import { agents, contacts, conversations, events, queues } from './schema.ts';

/** The open conversation (existing or new) an agent's first message goes to. */
export interface StartedConversation {
  conversationId: string;
  channelLinkId: string;
  opened: boolean;
}

/**
 * Finds or creates the contact, then opens an active conversation assigned to
 * the agent on the link. The contact's open conversation is reused when it is
 * already this agent's; one held by someone else (or waiting) is a conflict.
 */
export async function openOutboundConversation(
  db: Db,
  input: { channel: Channel; linkId: string; address: string; agentId: string },
): Promise<StartedConversation> {
  const key = contactKeyOf(input.channel, input.address);
  return db.transaction(async (tx) => {
    const [contact] = await tx
      .insert(contacts)
      .values({ channel: key.kind, address: key.address })
      .onConflictDoUpdate({ target: [contacts.channel, contacts.address], set: { address: sql`excluded.address` } })
      .returning({ id: contacts.id });
    if (!contact) throw new Error('contact upsert returned nothing');
    const [open] = await tx
      .select({ id: conversations.id, agentId: conversations.agentId, status: conversations.status, linkId: conversations.channelLinkId })
      .from(conversations)
      .where(and(eq(conversations.contactId, contact.id), inArray(conversations.status, [...OPEN_STATUSES])));
    if (open) {
      if (open.agentId === input.agentId && (open.status === 'active' || open.status === 'on_hold')) {
        return { conversationId: open.id, channelLinkId: open.linkId, opened: false };
      }
      throw new ConflictError(`this contact already has an open conversation (${open.id}), ${open.status}`, 'conversation_open');
    }
    const [queue] = await tx.select({ id: queues.id }).from(queues).where(eq(queues.isDefault, true)).limit(1);
    const [row] = await tx
      .insert(conversations)
      .values({
        channel: input.channel === 'twilio' ? 'sms' : input.channel,
        channelLinkId: input.linkId,
        contactId: contact.id,
        status: 'active',
        agentId: input.agentId,
        queueId: queue?.id ?? null,
        firstOfferedAt: sql`now()`,
        offeredAt: sql`now()`,
        acceptedAt: sql`now()`,
      })
      .onConflictDoNothing()
      .returning({ id: conversations.id, weight: conversations.weight });
    if (!row) throw new ConflictError('this contact opened a conversation meanwhile; open it from the list', 'conversation_open');
    // The agent chose to start it: it counts on their load like an accepted offer, past capacity if need be.
    await tx
      .update(agents)
      .set({ load: sql`${agents.load} + ${row.weight}`, version: sql`${agents.version} + 1` })
      .where(eq(agents.id, input.agentId));
    await tx.insert(events).values({
      conversationId: row.id,
      type: 'conversation.opened',
      actorType: 'agent',
      actorId: input.agentId,
      data: { channel: input.channel, channelLinkId: input.linkId, outbound: true },
    });
    return { conversationId: row.id, channelLinkId: input.linkId, opened: true };
  });
}
