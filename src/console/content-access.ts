/**
 * Who may see a confidential conversation's content (messages, attachments,
 * location): the agents in it — its owner and its active participants — and
 * supervisors. Everyone else gets 403; reports keep only its metadata.
 */
import { and, eq, isNull } from 'drizzle-orm';
import type { Actor } from '../auth/sessions.ts';
import { roleAtLeast } from '../domain/types.ts';
import { ForbiddenError } from '../errors.ts';
import type { DbOrTx } from '../store/db.ts';
import { conversationParticipants, type ConversationRow } from '../store/schema.ts';

/** True when the agent is the conversation's owner or an active participant. */
export async function isInConversation(db: DbOrTx, agentId: string, conversation: Pick<ConversationRow, 'id' | 'agentId'>): Promise<boolean> {
  if (conversation.agentId === agentId) return true;
  const [row] = await db
    .select({ agentId: conversationParticipants.agentId })
    .from(conversationParticipants)
    .where(
      and(
        eq(conversationParticipants.conversationId, conversation.id),
        eq(conversationParticipants.agentId, agentId),
        isNull(conversationParticipants.leftAt),
      ),
    );
  return row !== undefined;
}

/**
 * Throws ForbiddenError when the conversation is confidential and the actor
 * is neither in it nor a supervisor. Non-confidential conversations are left
 * to the caller's own access rule.
 */
export async function assertContentAccess(db: DbOrTx, actor: Actor, conversation: Pick<ConversationRow, 'id' | 'agentId' | 'confidential'>): Promise<void> {
  if (!conversation.confidential || roleAtLeast(actor.role, 'supervisor')) return;
  if (await isInConversation(db, actor.agentId, conversation)) return;
  throw new ForbiddenError('this conversation is confidential');
}
