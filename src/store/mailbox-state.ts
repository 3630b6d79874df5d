/**
 * E-mail bookkeeping: how far each mailbox link has read (`mailbox_state`)
 * and what is kept of each stored inbound mail for replies (`email_inbound`).
 */
import { and, desc, eq, sql } from 'drizzle-orm';
import type { DbOrTx } from './db.ts';
import { emailInbound, mailboxState, messages } from './schema.ts';

/** Where a mailbox link has read up to. */
export interface MailboxPosition {
  uidValidity: number;
  lastUid: number;
}

export async function getMailboxState(db: DbOrTx, linkId: string): Promise<MailboxPosition | undefined> {
  const [row] = await db.select().from(mailboxState).where(eq(mailboxState.linkId, linkId));
  return row ? { uidValidity: row.uidValidity, lastUid: row.lastUid } : undefined;
}

/**
 * Records the position. With the same UIDVALIDITY the UID only moves forward;
 * a new UIDVALIDITY replaces the row.
 */
export async function saveMailboxState(db: DbOrTx, linkId: string, position: MailboxPosition): Promise<void> {
  await db
    .insert(mailboxState)
    .values({ linkId, uidValidity: position.uidValidity, lastUid: position.lastUid })
    .onConflictDoUpdate({
      target: mailboxState.linkId,
      set: {
        lastUid: sql`case when ${mailboxState.uidValidity} = excluded.uid_validity then greatest(${mailboxState.lastUid}, excluded.last_uid) else excluded.last_uid end`,
        uidValidity: sql`excluded.uid_validity`,
        updatedAt: sql`now()`,
      },
    });
}

/** What is kept of an inbound e-mail beyond its message row. */
export interface EmailInboundFacts {
  messageId: number;
  linkId: string;
  subject: string;
  references: string[];
  automatic: string | null;
  fullText: string | null;
  error: string | null;
  uid: number | null;
}

/** Stores the e-mail facts of an inbound message once (a re-read keeps the first record). */
export async function recordEmailInbound(db: DbOrTx, row: EmailInboundFacts): Promise<void> {
  await db.insert(emailInbound).values(row).onConflictDoNothing();
}

/**
 * Mails stored from one sender on a link in the hour before `at` (by the
 * time each was received, so a backfill after an outage counts as the mail
 * arrived, not as it was read), the mail `excluding` itself left out.
 */
export async function countRecentFromSender(db: DbOrTx, linkId: string, from: string, at: Date, excluding: string): Promise<number> {
  const rows = await db.execute<{ n: number }>(sql`
    select count(*)::int as n from messages m
      join conversations c on c.id = m.conversation_id
      join contacts k on k.id = c.contact_id
     where k.channel = 'email' and k.address = ${from}
       and m.channel_link_id = ${linkId} and m.direction = 'inbound'
       and m.channel_message_id <> ${excluding}
       and m.received_at > ${at.toISOString()}::timestamptz - interval '1 hour'
       and m.received_at <= ${at.toISOString()}::timestamptz`);
  return Number(rows[0]?.n ?? 0);
}

/** The thread of a conversation as replies need it: first subject, last inbound Message-ID, its References, whether it was automatic. */
export interface EmailConversationThread {
  subject: string;
  lastMessageId: string | null;
  references: string[];
  lastAutomatic: string | null;
}

export async function getEmailThread(db: DbOrTx, conversationId: string): Promise<EmailConversationThread> {
  const inbound = and(eq(messages.conversationId, conversationId), eq(messages.direction, 'inbound'));
  const [last] = await db
    .select({ channelMessageId: messages.channelMessageId, references: emailInbound.references, automatic: emailInbound.automatic })
    .from(messages)
    .leftJoin(emailInbound, eq(emailInbound.messageId, messages.id))
    .where(inbound)
    .orderBy(desc(messages.id))
    .limit(1);
  const [first] = await db
    .select({ subject: emailInbound.subject })
    .from(messages)
    .innerJoin(emailInbound, eq(emailInbound.messageId, messages.id))
    .where(inbound)
    .orderBy(messages.id)
    .limit(1);
  return {
    subject: first?.subject ?? '',
    lastMessageId: last?.channelMessageId ?? null,
    references: last?.references ?? [],
    lastAutomatic: last?.automatic ?? null,
  };
}
