/**
 * The ingest write: `lifeline_ingest` (migrations/0014), a prepared statement
 * doing dedupe, find-or-open and message + outbox inserts in one round trip.
 * Messages arriving in the same turn of the event loop go together through
 * `lifeline_ingest_batch` (migrations/0014): one round trip and one commit
 * for the batch; if any of them fails, each is stored again on its own.
 *
 * The postgres.js client is shared with drizzle, which takes over its date and
 * JSON serialisation: values go in as text with explicit casts.
 */
import { and, eq } from 'drizzle-orm';
import type postgres from 'postgres';
import type { InboundMessage, IngestResult } from '../channel.ts';
import { createBatcher } from './batch.ts';
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
  return toStored(row);
}

function toStored(row: Row): StoredInbound {
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

export interface InboundStore {
  /** Stores an inbound message exactly once; resolves after its commit. */
  store(msg: InboundMessage): Promise<StoredInbound>;
}

interface BatchRow extends Row {
  idx: number;
}

/** Largest batch: bounds one transaction's locks and the JSON sent. */
const MAX_BATCH = 100;

/** A message PostgreSQL's jsonb cannot carry (a NUL character) goes on its own, so it fails alone. */
function batchable(msg: InboundMessage): boolean {
  const texts = [msg.text, msg.from, msg.fromName, msg.channelMessageId, msg.clientMessageId, ...(msg.threadIds ?? [])];
  if (texts.some((t) => t?.includes('\u0000'))) return false;
  return !msg.attachments?.length || !JSON.stringify(msg.attachments).includes('\\u0000');
}

const senderKey = (m: InboundMessage) => `${m.channel}\u0000${m.from}`;

/**
 * Group commit of inbound messages. A batch that fails (the store
 * unreachable, a concurrent twin's unique violation, a deadlock with another
 * batch, a value the store refuses) rolls back whole and is retried message
 * by message, so each caller gets its own answer.
 */
export function createInboundStore(sql: postgres.Sql): InboundStore {
  const batches = createBatcher(async (msgs: InboundMessage[]) => {
    // One order for every batch (by sender), so two batches lock contacts and conversations alike.
    const ordered = [...msgs].sort((a, b) => (senderKey(a) < senderKey(b) ? -1 : senderKey(a) > senderKey(b) ? 1 : 0));
    const payload = ordered.map((m) => ({
      channel: m.channel,
      link: m.channelLinkId,
      from: m.from,
      name: m.fromName ?? null,
      id: m.channelMessageId,
      body: m.text,
      attachments: m.attachments ?? [],
      location: m.location ?? null,
      receivedAt: m.receivedAt.toISOString(),
      clientId: m.clientMessageId ?? null,
      threadIds: m.threadIds?.length ? m.threadIds : null,
    }));
    let rows: BatchRow[];
    try {
      rows = await sql<BatchRow[]>`select * from lifeline_ingest_batch(${JSON.stringify(payload)}::jsonb)`;
    } catch {
      return new Map(ordered.map((m) => [m, { retry: true } as const]));
    }
    const results = new Map<InboundMessage, StoredInbound | { retry: true }>();
    for (const row of rows) {
      const msg = ordered[row.idx];
      if (msg) results.set(msg, toStored(row));
    }
    return results;
  }, MAX_BATCH);
  return {
    async store(msg) {
      if (!batchable(msg)) return storeInbound(sql, msg);
      const result = await batches.load(msg);
      return result === undefined || 'retry' in result ? storeInbound(sql, msg) : result;
    },
  };
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
