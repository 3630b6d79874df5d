/**
 * SMS bookkeeping for SMPP links: inbound parts of concatenated messages
 * waiting for the rest (`sms_parts`), and the SMSC's ids of submitted parts
 * with their receipt status (`sms_submissions`). See schema.ts for why each
 * exists.
 */
import { createHash } from 'node:crypto';
import { and, asc, eq, inArray, isNotNull, isNull, lt, sql } from 'drizzle-orm';
import type { DbOrTx } from './db.ts';
import { messages, smsParts, smsSubmissions, type SmsPartRow, type SmsSubmissionRow } from './schema.ts';

/** The concatenation group a part belongs to: every part of one message shares it. */
export interface SmsPartGroup {
  linkId: string;
  source: string;
  destination: string;
  concatKind: string;
  concatRef: number;
  concatTotal: number;
}

/** One received part. */
export interface NewSmsPart extends SmsPartGroup {
  concatSeq: number;
  dataCoding: number;
  payload: Buffer;
}

/** What storing a part did. */
export interface StoredSmsPart {
  id: number;
  /** False when the same part (same bytes) was stored before. */
  inserted: boolean;
  /** Set when the earlier copy already became a stored message. */
  assembledMessageId: number | null;
}

function payloadHash(dataCoding: number, payload: Buffer): string {
  return createHash('sha256').update(String(dataCoding)).update('\u0000').update(payload).digest('hex');
}

const groupWhere = (g: SmsPartGroup) =>
  and(
    eq(smsParts.linkId, g.linkId),
    eq(smsParts.source, g.source),
    eq(smsParts.destination, g.destination),
    eq(smsParts.concatKind, g.concatKind),
    eq(smsParts.concatRef, g.concatRef),
    eq(smsParts.concatTotal, g.concatTotal),
  );

/** Stores a part once; a repeat (same group, number and bytes) returns the stored copy. Resolves after commit. */
export async function storeSmsPart(db: DbOrTx, part: NewSmsPart): Promise<StoredSmsPart> {
  const hash = payloadHash(part.dataCoding, part.payload);
  const [inserted] = await db
    .insert(smsParts)
    .values({ ...part, payloadHash: hash })
    .onConflictDoNothing()
    .returning({ id: smsParts.id });
  if (inserted) return { id: inserted.id, inserted: true, assembledMessageId: null };
  const [existing] = await db
    .select({ id: smsParts.id, assembledMessageId: smsParts.assembledMessageId })
    .from(smsParts)
    .where(and(groupWhere(part), eq(smsParts.concatSeq, part.concatSeq), eq(smsParts.payloadHash, hash)));
  if (!existing) throw new Error('sms part neither inserted nor found');
  return { id: existing.id, inserted: false, assembledMessageId: existing.assembledMessageId };
}

/** The group's parts not yet assembled, oldest first. */
export async function listWaitingParts(db: DbOrTx, group: SmsPartGroup): Promise<SmsPartRow[]> {
  return db
    .select()
    .from(smsParts)
    .where(and(groupWhere(group), isNull(smsParts.assembledMessageId)))
    .orderBy(asc(smsParts.id));
}

/**
 * Groups on a link ready to deliver: every part present, or the first part
 * waiting `timeoutMs` or longer (measured by the database clock). Oldest first.
 */
export async function listDueGroups(db: DbOrTx, linkId: string, timeoutMs: number, limit = 100): Promise<SmsPartGroup[]> {
  return db
    .select({
      linkId: smsParts.linkId,
      source: smsParts.source,
      destination: smsParts.destination,
      concatKind: smsParts.concatKind,
      concatRef: smsParts.concatRef,
      concatTotal: smsParts.concatTotal,
    })
    .from(smsParts)
    .where(and(eq(smsParts.linkId, linkId), isNull(smsParts.assembledMessageId)))
    .groupBy(smsParts.linkId, smsParts.source, smsParts.destination, smsParts.concatKind, smsParts.concatRef, smsParts.concatTotal)
    .having(
      sql`count(distinct ${smsParts.concatSeq}) >= ${smsParts.concatTotal}
          or min(${smsParts.receivedAt}) <= now() - ${`${Math.round(timeoutMs)} milliseconds`}::interval`,
    )
    .orderBy(sql`min(${smsParts.receivedAt})`)
    .limit(limit);
}

/** Marks parts as having become message `messageId`; only parts still waiting change. */
export async function markPartsAssembled(db: DbOrTx, ids: readonly number[], messageId: number): Promise<number> {
  if (ids.length === 0) return 0;
  const rows = await db
    .update(smsParts)
    .set({ assembledMessageId: messageId, assembledAt: sql`now()` })
    .where(and(inArray(smsParts.id, [...ids]), isNull(smsParts.assembledMessageId)))
    .returning({ id: smsParts.id });
  return rows.length;
}

/** Deletes a link's parts assembled more than `keepMs` ago: by then no carrier repeats them. */
export async function purgeAssembledParts(db: DbOrTx, linkId: string, keepMs: number): Promise<number> {
  const rows = await db
    .delete(smsParts)
    .where(
      and(
        eq(smsParts.linkId, linkId),
        isNotNull(smsParts.assembledMessageId),
        lt(smsParts.assembledAt, sql`now() - ${`${Math.round(keepMs)} milliseconds`}::interval`),
      ),
    )
    .returning({ id: smsParts.id });
  return rows.length;
}

/** One accepted submit_sm. */
export interface NewSmsSubmission {
  linkId: string;
  smscMessageId: string;
  messageId: number;
  part: number;
  parts: number;
}

/** Records an accepted part; an SMSC id seen before on the link (recycled) now names this part. */
export async function recordSubmission(db: DbOrTx, s: NewSmsSubmission): Promise<void> {
  await db
    .insert(smsSubmissions)
    .values(s)
    .onConflictDoUpdate({
      target: [smsSubmissions.linkId, smsSubmissions.smscMessageId],
      set: { messageId: s.messageId, part: s.part, parts: s.parts, status: 'sent', error: null, updatedAt: sql`now()` },
    });
}

/** Parts of a message already accepted by the SMSC on a link, in part order. */
export async function listSubmissions(db: DbOrTx, linkId: string, messageId: number): Promise<SmsSubmissionRow[]> {
  return db
    .select()
    .from(smsSubmissions)
    .where(and(eq(smsSubmissions.linkId, linkId), eq(smsSubmissions.messageId, messageId)))
    .orderBy(asc(smsSubmissions.part), asc(smsSubmissions.id));
}

/** Where a receipt leaves its message. */
export interface ReceiptOutcome {
  messageId: number;
  /** `pending` while some part has no final receipt yet. */
  status: 'delivered' | 'failed' | 'pending';
  error: string | null;
}

/**
 * Applies a receipt for the part submitted under any of `smscIds` on a link
 * (a `delivered` part stays delivered), and sums up the message: failed when
 * a part failed, delivered when every part was delivered. Undefined when no
 * part has one of those ids.
 */
export async function applySubmissionReceipt(
  db: DbOrTx,
  linkId: string,
  smscIds: readonly string[],
  receipt: { status: 'sent' | 'delivered' | 'failed'; error: string | null },
): Promise<ReceiptOutcome | undefined> {
  const [part] = await db
    .select({ id: smsSubmissions.id, messageId: smsSubmissions.messageId, status: smsSubmissions.status })
    .from(smsSubmissions)
    .where(and(eq(smsSubmissions.linkId, linkId), inArray(smsSubmissions.smscMessageId, [...smscIds])))
    .orderBy(sql`${smsSubmissions.id} desc`)
    .limit(1);
  if (!part) return undefined;
  if (part.status !== 'delivered' && receipt.status !== 'sent') {
    await db
      .update(smsSubmissions)
      .set({ status: receipt.status, error: receipt.error, updatedAt: sql`now()` })
      .where(eq(smsSubmissions.id, part.id));
  }
  const perPart = await db
    .select({
      part: smsSubmissions.part,
      parts: sql<number>`max(${smsSubmissions.parts})`.mapWith(Number),
      delivered: sql<boolean>`bool_or(${smsSubmissions.status} = 'delivered')`,
      failed: sql<boolean>`bool_and(${smsSubmissions.status} = 'failed')`,
      error: sql<string | null>`max(${smsSubmissions.error})`,
    })
    .from(smsSubmissions)
    .where(and(eq(smsSubmissions.linkId, linkId), eq(smsSubmissions.messageId, part.messageId)))
    .groupBy(smsSubmissions.part);
  const failed = perPart.find((p) => p.failed);
  if (failed) return { messageId: part.messageId, status: 'failed', error: failed.error ?? receipt.error };
  const total = Math.max(0, ...perPart.map((p) => p.parts));
  const delivered = perPart.filter((p) => p.delivered).length;
  return { messageId: part.messageId, status: delivered >= total ? 'delivered' : 'pending', error: null };
}

/** An outbound or system message on a link whose stored channel message id is one of `ids`. */
export async function findOutboundByChannelId(db: DbOrTx, linkId: string, ids: readonly string[]): Promise<number | undefined> {
  const [row] = await db
    .select({ id: messages.id })
    .from(messages)
    .where(and(eq(messages.channelLinkId, linkId), inArray(messages.channelMessageId, [...ids]), inArray(messages.direction, ['outbound', 'system'])))
    .limit(1);
  return row?.id;
}

/** A message's delivery status, or undefined when there is no such message. */
export async function getDeliveryStatus(db: DbOrTx, messageId: number): Promise<string | undefined> {
  const [row] = await db.select({ status: messages.deliveryStatus }).from(messages).where(eq(messages.id, messageId));
  return row?.status;
}
