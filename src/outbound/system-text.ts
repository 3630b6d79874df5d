/**
 * Texts the system sends a citizen on their own channel (acknowledgement,
 * escalation, bounce-back, inactivity): system messages in the conversation,
 * delivered like replies, each at most once per key.
 */
import type { Channel } from '../domain/types.ts';
import type { Enqueuer } from '../queue/enqueue.ts';
import type { Db } from '../store/db.ts';
import { storeReply } from './reply.ts';

export interface SystemTextTarget {
  conversationId: string;
  channelLinkId: string;
  channel: Channel;
}

/**
 * Stores and enqueues a system text, once per `key` in the conversation.
 * Not on voice (the citizen is on the line) nor when the queue's text is
 * empty (the administrator turned it off). Returns the new message's id, or
 * undefined when nothing new was stored.
 */
export async function sendSystemText(deps: { db: Db; enqueue: Enqueuer }, target: SystemTextTarget, text: string, key: string): Promise<number | undefined> {
  if (target.channel === 'voice' || !text.trim()) return undefined;
  const stored = await storeReply(deps, {
    conversationId: target.conversationId,
    channelLinkId: target.channelLinkId,
    agentId: null,
    text,
    clientId: key,
    direction: 'system',
  });
  return stored.duplicate ? undefined : stored.messageId;
}
