/**
 * Voice calls (`calls`) and call-back tasks. A call's status only moves
 * forward, whatever order Twilio's callbacks arrive in; its outcome is
 * decided once (answered or abandoned), except that an answer reported late
 * overrides an abandonment and withdraws the call-back task it raised.
 */
import { and, eq, isNull, ne, sql } from 'drizzle-orm';
import type { CallStatus } from './schema.ts';
import type { Db, DbOrTx } from './db.ts';
import { recordEvent } from './conversations.ts';
import { calls, conversations, messages, routingRules, type Attachment, type CallRow } from './schema.ts';

/**
 * The least priority of a call-back task. Rules add up (each at most 1000),
 * so a call-back is also placed above the sum of every positive rule
 * priority: no text, however many rules it matches, waits ahead of it.
 */
export const CALLBACK_PRIORITY_FLOOR = 10_000;

const TERMINAL_STATUSES: readonly CallStatus[] = ['completed', 'busy', 'failed', 'no-answer', 'canceled'];

/** SQL rank of a status (a column or a value): statuses only move to a higher rank. */
const rank = (status: unknown) =>
  sql`(case ${status} when 'ringing' then 1 when 'in-progress' then 2
        when 'completed' then 3 when 'busy' then 3 when 'failed' then 3 when 'no-answer' then 3 when 'canceled' then 3 else 0 end)`;

export interface NewCall {
  callSid: string;
  linkId: string;
  conversationId: string;
  messageId: number | null;
  fromNumber: string;
  toNumber: string;
  status: CallStatus;
  startedAt: Date;
}

/** Stores a call once; a repeated webhook gets the stored row. */
export async function openCall(db: DbOrTx, call: NewCall): Promise<{ call: CallRow; created: boolean }> {
  const [created] = await db
    .insert(calls)
    .values({ ...call, ringingAt: call.status === 'ringing' ? call.startedAt : null })
    .onConflictDoNothing({ target: calls.callSid })
    .returning();
  if (created) {
    await recordEvent(db, {
      conversationId: call.conversationId,
      type: 'call.started',
      actorType: 'citizen',
      data: { callSid: call.callSid, from: call.fromNumber, to: call.toNumber, linkId: call.linkId },
    });
    return { call: created, created: true };
  }
  const existing = await getCall(db, call.callSid);
  if (!existing) throw new Error(`call ${call.callSid} neither inserted nor found`);
  return { call: existing, created: false };
}

export async function getCall(db: DbOrTx, callSid: string): Promise<CallRow | undefined> {
  const [row] = await db.select().from(calls).where(eq(calls.callSid, callSid));
  return row;
}

/**
 * Applies a status callback if it moves the call forward (ringing → in
 * progress → completed, busy, no-answer, failed or canceled), recording when
 * each happened and the duration. `ended` is true for the one update that
 * ended the call.
 */
export async function advanceCallStatus(
  db: DbOrTx,
  callSid: string,
  status: CallStatus,
  o: { at: Date; durationSeconds?: number },
): Promise<{ call: CallRow; changed: boolean; ended: boolean } | undefined> {
  const terminal = TERMINAL_STATUSES.includes(status);
  const at = o.at.toISOString();
  const [row] = await db
    .update(calls)
    .set({
      status,
      ringingAt: status === 'ringing' ? sql`coalesce(${calls.ringingAt}, ${at}::timestamptz)` : undefined,
      inProgressAt: status === 'in-progress' ? sql`coalesce(${calls.inProgressAt}, ${at}::timestamptz)` : undefined,
      endedAt: terminal ? sql`coalesce(${calls.endedAt}, ${at}::timestamptz)` : undefined,
      durationSeconds: o.durationSeconds,
      updatedAt: sql`now()`,
    })
    .where(and(eq(calls.callSid, callSid), sql`${rank(calls.status)} < ${rank(status)}`))
    .returning();
  if (row) {
    await recordEvent(db, {
      conversationId: row.conversationId,
      type: `call.${status.replace('-', '_')}`,
      actorType: 'system',
      data: { callSid, status, ...(o.durationSeconds !== undefined ? { durationSeconds: o.durationSeconds } : {}) },
    });
    return { call: row, changed: true, ended: terminal };
  }
  const current = await getCall(db, callSid);
  return current ? { call: current, changed: false, ended: false } : undefined;
}

/**
 * Records that a call-taker answered. Returns the outcome the call had
 * before (`abandoned` when the answer was reported after the hang-up was
 * taken for an abandonment), or undefined when already answered or unknown.
 */
export async function markCallAnswered(db: Db, callSid: string, at: Date): Promise<{ call: CallRow; previous: CallRow['outcome'] } | undefined> {
  return db.transaction(async (tx) => {
    const [current] = await tx.select().from(calls).where(eq(calls.callSid, callSid)).for('update');
    if (!current || current.outcome === 'answered') return undefined;
    const [row] = await tx
      .update(calls)
      .set({ outcome: 'answered', outcomeReason: null, answeredAt: sql`coalesce(${calls.answeredAt}, ${at.toISOString()}::timestamptz)`, updatedAt: sql`now()` })
      .where(eq(calls.id, current.id))
      .returning();
    if (!row) return undefined;
    await recordEvent(tx, { conversationId: row.conversationId, type: 'call.answered', actorType: 'system', data: { callSid, lateAfterAbandoned: current.outcome === 'abandoned' } });
    return { call: row, previous: current.outcome };
  });
}

/** Decides a call abandoned, once. Returns the call when this call decided it. */
export async function markCallAbandoned(db: DbOrTx, callSid: string, reason: string): Promise<CallRow | undefined> {
  const [row] = await db
    .update(calls)
    .set({ outcome: 'abandoned', outcomeReason: reason, updatedAt: sql`now()` })
    .where(and(eq(calls.callSid, callSid), isNull(calls.outcome)))
    .returning();
  if (row) await recordEvent(db, { conversationId: row.conversationId, type: 'call.abandoned', actorType: 'system', data: { callSid, reason } });
  return row;
}

/** The priority a call-back task gets: above every rule-based priority. */
export async function callbackPriority(db: DbOrTx): Promise<number> {
  const [row] = await db.select({ sum: sql<number>`coalesce(sum(greatest(${routingRules.priority}, 0)), 0)::int` }).from(routingRules);
  return Math.max(CALLBACK_PRIORITY_FLOOR, (row?.sum ?? 0) + 1);
}

/**
 * Makes a conversation a call-back task for an abandoned call: marked, and
 * raised above every rule-based priority (priorities only rise). Idempotent.
 * Returns whether the conversation changed.
 */
export async function requestCallback(db: Db, conversationId: string, callSid: string): Promise<boolean> {
  const priority = await callbackPriority(db);
  return db.transaction(async (tx) => {
    const [conversation] = await tx
      .select({ priority: conversations.priority, callbackRequestedAt: conversations.callbackRequestedAt })
      .from(conversations)
      .where(eq(conversations.id, conversationId))
      .for('update');
    if (!conversation) return false;
    await tx
      .update(calls)
      .set({ callbackConversationId: conversationId, priorityBeforeCallback: sql`coalesce(${calls.priorityBeforeCallback}, ${conversation.priority})` })
      .where(eq(calls.callSid, callSid));
    if (conversation.callbackRequestedAt && conversation.priority >= priority) return false;
    await tx
      .update(conversations)
      .set({
        priority: sql`greatest(${conversations.priority}, ${priority})`,
        callbackRequestedAt: sql`coalesce(${conversations.callbackRequestedAt}, now())`,
        version: sql`${conversations.version} + 1`,
      })
      .where(eq(conversations.id, conversationId));
    await recordEvent(tx, {
      conversationId,
      type: 'callback.requested',
      actorType: 'system',
      data: { callSid, priority: Math.max(priority, conversation.priority), previousPriority: conversation.priority },
    });
    return true;
  });
}

/**
 * Withdraws the call-back task a call raised, when the call turned out to be
 * answered: the mark is cleared and the priority restored, unless another
 * abandoned call of the same conversation still wants a call-back. Returns
 * the conversation when it changed.
 */
export async function withdrawCallback(db: Db, callSid: string): Promise<string | undefined> {
  return db.transaction(async (tx) => {
    const [call] = await tx.select().from(calls).where(eq(calls.callSid, callSid)).for('update');
    const conversationId = call?.callbackConversationId;
    if (!call || !conversationId) return undefined;
    await tx.update(calls).set({ callbackConversationId: null, updatedAt: sql`now()` }).where(eq(calls.id, call.id));
    const [other] = await tx
      .select({ id: calls.id })
      .from(calls)
      .where(and(eq(calls.callbackConversationId, conversationId), eq(calls.outcome, 'abandoned'), ne(calls.id, call.id)))
      .limit(1);
    if (other) return undefined;
    await tx
      .update(conversations)
      .set({
        callbackRequestedAt: null,
        priority: call.priorityBeforeCallback ?? sql`${conversations.priority}`,
        version: sql`${conversations.version} + 1`,
      })
      .where(eq(conversations.id, conversationId));
    await recordEvent(tx, {
      conversationId,
      type: 'callback.withdrawn',
      actorType: 'system',
      data: { callSid, reason: 'the call was answered', priority: call.priorityBeforeCallback },
    });
    return conversationId;
  });
}

/** Clears a conversation's call-back mark once a call with the contact was answered (the call-back happened). */
export async function clearCallback(db: DbOrTx, conversationId: string, callSid: string): Promise<boolean> {
  const rows = await db
    .update(conversations)
    .set({ callbackRequestedAt: null, version: sql`${conversations.version} + 1` })
    .where(and(eq(conversations.id, conversationId), sql`${conversations.callbackRequestedAt} is not null`))
    .returning({ id: conversations.id });
  if (rows.length === 0) return false;
  await recordEvent(db, { conversationId, type: 'callback.done', actorType: 'system', data: { callSid } });
  return true;
}

/** Keeps a call's recording (its Twilio SID and URL, and duration). */
export async function setCallRecording(db: DbOrTx, callSid: string, r: { sid: string; url: string; durationSeconds: number | null }): Promise<void> {
  await db
    .update(calls)
    .set({ recordingSid: r.sid, recordingUrl: r.url, recordingDurationSeconds: r.durationSeconds, updatedAt: sql`now()` })
    .where(eq(calls.callSid, callSid));
}

/** Keeps the transcription of a call's voicemail. */
export async function setCallTranscription(db: DbOrTx, callSid: string, t: { text: string | null; status: string }): Promise<void> {
  await db.update(calls).set({ transcriptionText: t.text, transcriptionStatus: t.status, updatedAt: sql`now()` }).where(eq(calls.callSid, callSid));
}

/**
 * Appends a note nobody authored (the call log) to a conversation, once per
 * `clientId`. Returns the new message's id, or undefined when already there.
 */
export async function addSystemNote(
  db: DbOrTx,
  note: { conversationId: string; linkId: string; text: string; clientId: string; attachments?: Attachment[] },
): Promise<number | undefined> {
  const [row] = await db
    .insert(messages)
    .values({
      conversationId: note.conversationId,
      channelLinkId: note.linkId,
      direction: 'note',
      body: note.text,
      attachments: note.attachments ?? [],
      deliveryStatus: 'sent',
      clientMessageId: note.clientId,
    })
    .onConflictDoNothing({ target: [messages.conversationId, messages.clientMessageId] })
    .returning({ id: messages.id });
  return row?.id;
}
