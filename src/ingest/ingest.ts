/**
 * The one ingest path. Every adapter's InboundMessage lands here: a duplicate
 * channel message id is dropped; otherwise the contact's open conversation is
 * found or opened and the message and its outbox row are committed in one
 * transaction, then the routing job is enqueued. A failed enqueue loses
 * nothing: the sweeper re-enqueues unacknowledged outbox rows.
 */
import type { InboundMessage, IngestResult } from '../channel.ts';
import { ValidationError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { enqueueAfterCommit, type Enqueuer } from '../queue/enqueue.ts';
import type { InboundStore } from '../store/inbound.ts';

export interface IngestDeps {
  inbound: InboundStore;
  enqueue: Enqueuer;
  log: Logger;
  maxMessageChars: number;
}

function validate(msg: InboundMessage, maxChars: number): void {
  if (!msg.channelMessageId) throw new ValidationError('channel message id is required', 'channelMessageId');
  if (msg.channelMessageId.length > 500) throw new ValidationError('channel message id is longer than 500 characters', 'channelMessageId');
  if (!msg.from) throw new ValidationError('sender address is required', 'from');
  if (msg.text.length > maxChars) throw new ValidationError(`text is longer than ${maxChars} characters`, 'text');
  if (!msg.text.trim() && !msg.attachments?.length && !msg.location) {
    throw new ValidationError('a message needs text, an attachment or a location', 'text');
  }
}

/**
 * Stores one inbound message exactly once and schedules its routing.
 * Resolves only after the commit, so callers may acknowledge the channel.
 */
export async function ingest(deps: IngestDeps, msg: InboundMessage): Promise<IngestResult> {
  validate(msg, deps.maxMessageChars);
  const stored = await deps.inbound.store(msg);
  const result: IngestResult = {
    conversationId: stored.conversationId,
    messageId: stored.messageId,
    contactId: stored.contactId,
    duplicate: stored.duplicate,
  };
  if (stored.outboxId === null) return result;
  const err = await enqueueAfterCommit(deps.enqueue.route({ outboxId: stored.outboxId, conversationId: stored.conversationId, messageId: stored.messageId }));
  if (err) {
    // Committed already: the sweeper will enqueue it. The channel may be acknowledged.
    deps.log.error({ err, conversationId: stored.conversationId, outboxId: stored.outboxId }, 'enqueue after commit failed; left to the sweeper');
  }
  return result;
}
