/**
 * Twilio SMS bookkeeping (`twilio_messages`): the PSAP number each citizen
 * wrote to (replies come from it) and the status Twilio last reported for
 * each reply.
 */
import { and, desc, eq, sql } from 'drizzle-orm';
import type { DbOrTx } from './db.ts';
import { calls, messages, twilioMessages } from './schema.ts';

/** Records a message Twilio delivered to us or accepted from us, once per SID. */
export async function recordTwilioMessage(
  db: DbOrTx,
  row: { linkId: string; sid: string; messageId: number; direction: 'inbound' | 'outbound'; fromNumber: string | null; toNumber: string; status: string },
): Promise<void> {
  await db.insert(twilioMessages).values(row).onConflictDoNothing({ target: [twilioMessages.linkId, twilioMessages.sid] });
}

/** Keeps the status Twilio reported for one of our messages; returns the message id when the SID is known. */
export async function updateTwilioMessageStatus(db: DbOrTx, linkId: string, sid: string, status: string, errorCode: string | null): Promise<number | undefined> {
  const [row] = await db
    .update(twilioMessages)
    .set({ status, errorCode, updatedAt: sql`now()` })
    .where(and(eq(twilioMessages.linkId, linkId), eq(twilioMessages.sid, sid)))
    .returning({ messageId: twilioMessages.messageId });
  return row?.messageId;
}


/**
 * The PSAP number the citizen of a conversation last texted or called on a
 * link: replies are sent from it, so the citizen sees one number.
 */
export async function lastNumberReached(db: DbOrTx, conversationId: string, linkId: string): Promise<string | undefined> {
  const [text] = await db
    .select({ to: twilioMessages.toNumber, id: messages.id })
    .from(twilioMessages)
    .innerJoin(messages, eq(messages.id, twilioMessages.messageId))
    .where(and(eq(messages.conversationId, conversationId), eq(twilioMessages.linkId, linkId), eq(twilioMessages.direction, 'inbound')))
    .orderBy(desc(messages.id))
    .limit(1);
  const [call] = await db
    .select({ to: calls.toNumber, id: calls.messageId })
    .from(calls)
    .where(and(eq(calls.conversationId, conversationId), eq(calls.linkId, linkId)))
    .orderBy(desc(calls.id))
    .limit(1);
  if (text && call) return (call.id ?? 0) > text.id ? call.to : text.to;
  return text?.to ?? call?.to;
}

/** Whether a message was written on a link (a status callback may only touch the link's own messages). */
export async function messageOnLink(db: DbOrTx, messageId: number, linkId: string): Promise<boolean> {
  const [row] = await db
    .select({ id: messages.id })
    .from(messages)
    .where(and(eq(messages.id, messageId), eq(messages.channelLinkId, linkId)));
  return row !== undefined;
}
