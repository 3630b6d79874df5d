/**
 * Agent replies: stored with an outbox row in one transaction, then handed to
 * the outbound queue. A client retry with the same client id is stored once.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Direction } from '../domain/types.ts';
import { enqueueAfterCommit, type Enqueuer } from '../queue/enqueue.ts';
import type { Db } from '../store/db.ts';
import { conversations, messages, outbox } from '../store/schema.ts';

export interface StoredReply {
  messageId: number;
  duplicate: boolean;
}

/**
 * Stores an outbound message (or an internal note, which is never delivered)
 * and enqueues its delivery.
 */
export async function storeReply(
  deps: { db: Db; enqueue: Enqueuer },
  input: { conversationId: string; channelLinkId: string; agentId: string | null; text: string; clientId: string; direction?: Extract<Direction, 'outbound' | 'note' | 'system'> },
): Promise<StoredReply> {
  const direction = input.direction ?? 'outbound';
  const deliver = direction !== 'note';
  const stored = await deps.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(messages)
      .values({
        conversationId: input.conversationId,
        channelLinkId: input.channelLinkId,
        direction,
        authorAgentId: input.agentId,
        body: input.text,
        deliveryStatus: deliver ? 'queued' : 'sent',
        clientMessageId: input.clientId,
      })
      .onConflictDoNothing({ target: [messages.conversationId, messages.clientMessageId] })
      .returning({ id: messages.id });
    if (!row) {
      const [existing] = await tx
        .select({ id: messages.id })
        .from(messages)
        .where(and(eq(messages.conversationId, input.conversationId), eq(messages.clientMessageId, input.clientId)));
      if (!existing) throw new Error('reply conflict without an existing row');
      return { messageId: existing.id, duplicate: true, outboxId: 0 };
    }
    await tx
      .update(conversations)
      .set({
        lastMessageAt: sql`now()`,
        ...(direction === 'outbound' ? { firstResponseAt: sql`coalesce(${conversations.firstResponseAt}, now())` } : {}),
      })
      .where(eq(conversations.id, input.conversationId));
    let outboxId = 0;
    if (deliver) {
      const [o] = await tx
        .insert(outbox)
        .values({ kind: 'deliver', conversationId: input.conversationId, messageId: row.id })
        .returning({ id: outbox.id });
      outboxId = o?.id ?? 0;
    }
    return { messageId: row.id, duplicate: false, outboxId };
  });
  if (stored.outboxId) {
    // On failure the sweeper enqueues it; the reply is already safe in the store.
    await enqueueAfterCommit(deps.enqueue.deliver({ outboxId: stored.outboxId, conversationId: input.conversationId, messageId: stored.messageId }));
  }
  return { messageId: stored.messageId, duplicate: stored.duplicate };
}
