/**
 * Chat invitations (text-from-911 follow-up): a one-time link to `/chat` that
 * joins an existing conversation from the browser. Only the token's hash is
 * stored. Redeeming it creates a web-chat contact for the browser's session,
 * linked to the conversation's contact: the session then reads and writes the
 * invited conversation, not a web-chat conversation of its own.
 */
import { and, desc, eq, isNotNull, sql } from 'drizzle-orm';
import { hashToken, randomSecret } from '../auth/passwords.ts';
import { OPEN_STATUSES } from '../domain/types.ts';
import type { Db, DbOrTx } from './db.ts';
import { chatInvitations, contacts, conversations, messages, type Attachment } from './schema.ts';

/** Creates an invitation and returns its token (shown once, in the link). */
export async function createInvitation(db: DbOrTx, input: { conversationId: string; createdBy: string; ttlHours: number }): Promise<{ token: string; expiresAt: Date }> {
  const token = randomSecret(24);
  const expiresAt = new Date(Date.now() + input.ttlHours * 3600_000);
  await db.insert(chatInvitations).values({ conversationId: input.conversationId, tokenHash: hashToken(token), createdBy: input.createdBy, expiresAt });
  return { token, expiresAt };
}

/** Why an invitation cannot be redeemed. */
export type RedeemRefusal = 'unknown' | 'used' | 'expired' | 'closed';

/**
 * Redeems an invitation for a browser session (its address: the hash of its
 * session token). One use only: a second redemption is refused.
 */
export async function redeemInvitation(
  db: Db,
  invite: string,
  sessionAddress: string,
): Promise<{ ok: true; conversationId: string } | { ok: false; reason: RedeemRefusal }> {
  return db.transaction(async (tx) => {
    const [inv] = await tx.select().from(chatInvitations).where(eq(chatInvitations.tokenHash, hashToken(invite))).for('update');
    if (!inv) return { ok: false, reason: 'unknown' } as const;
    if (inv.usedAt) return { ok: false, reason: 'used' } as const;
    if (inv.expiresAt.getTime() <= Date.now()) return { ok: false, reason: 'expired' } as const;
    const [conversation] = await tx
      .select({ id: conversations.id, contactId: conversations.contactId, status: conversations.status })
      .from(conversations)
      .where(eq(conversations.id, inv.conversationId));
    if (!conversation || !OPEN_STATUSES.includes(conversation.status)) return { ok: false, reason: 'closed' } as const;
    await tx.update(chatInvitations).set({ usedAt: sql`now()` }).where(eq(chatInvitations.id, inv.id));
    await tx
      .insert(contacts)
      .values({ channel: 'webchat', address: sessionAddress, linkedContactId: conversation.contactId })
      .onConflictDoUpdate({ target: [contacts.channel, contacts.address], set: { linkedContactId: conversation.contactId } });
    return { ok: true, conversationId: conversation.id } as const;
  });
}

/**
 * The conversation an invited browser session writes to: the newest
 * conversation of the contact its session is linked to. Undefined for an
 * ordinary web-chat session.
 */
export async function invitedConversationOf(db: DbOrTx, sessionAddress: string): Promise<{ id: string; open: boolean } | undefined> {
  const [row] = await db
    .select({ id: conversations.id, status: conversations.status })
    .from(contacts)
    .innerJoin(conversations, eq(conversations.contactId, contacts.linkedContactId))
    .where(and(eq(contacts.channel, 'webchat'), eq(contacts.address, sessionAddress), isNotNull(contacts.linkedContactId)))
    .orderBy(desc(conversations.openedAt))
    .limit(1);
  return row ? { id: row.id, open: OPEN_STATUSES.includes(row.status) } : undefined;
}

/**
 * Stores what an invited browser sent (text, photos) as an inbound message of
 * the invited conversation, once per client id. Returns the message id.
 */
export async function storeInvitedMessage(
  db: Db,
  input: { conversationId: string; linkId: string; sessionAddress: string; clientId: string; text: string; attachments?: Attachment[] },
): Promise<{ id: number; duplicate: boolean }> {
  return db.transaction(async (tx) => {
    const channelMessageId = `${input.sessionAddress}:${input.clientId}`;
    const [row] = await tx
      .insert(messages)
      .values({
        conversationId: input.conversationId,
        channelLinkId: input.linkId,
        channelMessageId,
        direction: 'inbound',
        body: input.text,
        attachments: input.attachments ?? [],
        deliveryStatus: 'received',
        clientMessageId: input.clientId,
        receivedAt: new Date(),
      })
      .onConflictDoNothing()
      .returning({ id: messages.id });
    if (!row) {
      const [existing] = await tx
        .select({ id: messages.id })
        .from(messages)
        .where(and(eq(messages.channelLinkId, input.linkId), eq(messages.channelMessageId, channelMessageId), eq(messages.direction, 'inbound')));
      if (!existing) throw new Error('invited message conflict without an existing row');
      return { id: existing.id, duplicate: true };
    }
    await tx.update(conversations).set({ lastMessageAt: sql`now()` }).where(eq(conversations.id, input.conversationId));
    return { id: row.id, duplicate: false };
  });
}
