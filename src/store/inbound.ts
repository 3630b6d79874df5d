/**
 * The ingest write: one call of `lifeline_ingest` (migrations/0008), a
 * prepared statement doing dedupe, find-or-open and message + outbox inserts
 * in one round trip and one commit.
 *
 * The postgres.js client is shared with drizzle, which takes over its date and
 * JSON serialisation: values go in as text with explicit casts.
 */
import { and, eq } from 'drizzle-orm';
import type postgres from 'postgres';
import type { InboundMessage, IngestResult } from '../channel.ts';
import type { DbOrTx } from './db.ts';
import { messages } from './schema.ts';

export interface StoredInbound extends IngestResult {
  /** The outbox row to enqueue; null for a duplicate. */
  outboxId: number | null;
}

interface Row {
  conversation_id: string;
  message_id: string;
  contact_id: string;
  duplicate: boolean;
  outbox_id: string | null;
}

const isUniqueViolation = (err: unknown) => (err as { code?: string })?.code === '23505';

async function call(sql: postgres.Sql, msg: InboundMessage): Promise<StoredInbound> {
  const rows = await sql<Row[]>`
    select * from lifeline_ingest(
      ${msg.channel}, ${msg.channelLinkId}, ${msg.from}, ${msg.fromName ?? null}, ${msg.channelMessageId},
      ${msg.text}, ${JSON.stringify(msg.attachments ?? [])}::jsonb,
      ${msg.location ? JSON.stringify(msg.location) : null}::jsonb,
      ${msg.receivedAt.toISOString()}::timestamptz, ${msg.clientMessageId ?? null},
      ${msg.threadIds?.length ? JSON.stringify(msg.threadIds) : null}::jsonb)`;
  const row = rows[0];
  if (!row) throw new Error('lifeline_ingest returned no row');
  return {
    conversationId: row.conversation_id,
    messageId: Number(row.message_id),
    contactId: row.contact_id,
    duplicate: row.duplicate,
    outboxId: row.outbox_id === null ? null : Number(row.outbox_id),
  };
}

/** Stores an inbound message exactly once; a concurrent twin resolves to the stored one. */
export async function storeInbound(sql: postgres.Sql, msg: InboundMessage): Promise<StoredInbound> {
  try {
    return await call(sql, msg);
  } catch (err) {
    // The same channel message id committed by a concurrent call: read it back.
    if (isUniqueViolation(err)) return call(sql, msg);
    throw err;
  }
}

/** Whether an inbound message with this channel id is stored on the link already (a channel's retry or repeated webhook). */
export async function hasInboundMessage(db: DbOrTx, linkId: string, channelMessageId: string): Promise<boolean> {
  const [row] = await db
    .select({ id: messages.id })
    .from(messages)
    .where(and(eq(messages.channelLinkId, linkId), eq(messages.channelMessageId, channelMessageId), eq(messages.direction, 'inbound')))
    .limit(1);
  return row !== undefined;
}
