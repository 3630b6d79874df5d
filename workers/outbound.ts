/**
 * The outbound worker: hands a stored reply to its channel's adapter, with
 * retries and exponential backoff, and records the delivery status. A message
 * already sent is never sent again (the job may run twice after a crash).
 */
import { eq } from 'drizzle-orm';
import type { ChannelAdapter, SendResult } from '../src/channel.ts';
import type { Channel } from '../src/domain/types.ts';
import { AppError } from '../src/errors.ts';
import { lazyChild, type Logger } from '../src/log.ts';
import type { Metrics } from '../src/metrics.ts';
import { UnrecoverableError, type Job } from '../src/queue/backend.ts';
import { deliverJob, type DeliverJob } from '../src/queue/catalog.ts';
import type { Enqueuer } from '../src/queue/enqueue.ts';
import type { Notifier } from '../src/realtime/notifier.ts';
import { setDeliveryStatus } from '../src/store/conversations.ts';
import type { Db } from '../src/store/db.ts';
import { acknowledgeOutbox } from '../src/store/outbox.ts';
import { agents, channelLinks, contacts, conversations, messages } from '../src/store/schema.ts';
import type { DeliveryStatus } from '../src/domain/types.ts';

export interface OutboundDeps {
  db: Db;
  /** Forwards deliveries for run-time links to the link's own queue. */
  enqueue: Pick<Enqueuer, 'deliverViaLink'>;
  adapters: ReadonlyMap<Channel, ChannelAdapter>;
  notifier: Notifier;
  log: Logger;
  /** Counts each message once, when its delivery is settled here (sent, or failed for good). */
  metrics?: Pick<Metrics, 'outbound'>;
}

/** Records a delivery status and pushes it to the console; shared with adapters' receipts. */
export async function recordDelivery(
  deps: Pick<OutboundDeps, 'db' | 'notifier'>,
  messageId: number,
  status: DeliveryStatus,
  extra: { error?: string | null; channelMessageId?: string } = {},
): Promise<void> {
  const changed = await setDeliveryStatus(deps.db, messageId, status, extra);
  if (!changed) return;
  deps.notifier.toAgents({ conversationId: changed.conversationId, supervisors: true }, 'message:status', {
    id: messageId,
    conversationId: changed.conversationId,
    status,
    error: extra.error ?? null,
  });
}

const PERSIST_ATTEMPTS = 5;

/** Runs a store write after a send, retrying a transient failure with a short backoff. */
async function persist(log: Logger, write: () => Promise<unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await write();
      return;
    } catch (err) {
      if (attempt >= PERSIST_ATTEMPTS) throw new UnrecoverableError(`recording a sent message failed: ${(err as Error).message}`);
      log.warn({ err, attempt }, 'recording a sent message failed; retrying');
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
    }
  }
}

export function createOutboundProcessor(deps: OutboundDeps) {
  return async (job: Job<DeliverJob>): Promise<void> => {
    const data = deliverJob.parse(job.data);
    const log = lazyChild(deps.log, { component: 'outbound', jobId: job.id, messageId: data.messageId });
    const [row] = await deps.db
      .select({ m: messages, channel: conversations.channel, linkChannel: channelLinks.channel, to: contacts.address, authorName: agents.displayName })
      .from(messages)
      .innerJoin(conversations, eq(conversations.id, messages.conversationId))
      .innerJoin(channelLinks, eq(channelLinks.id, messages.channelLinkId))
      .innerJoin(contacts, eq(contacts.id, conversations.contactId))
      .leftJoin(agents, eq(agents.id, messages.authorAgentId))
      .where(eq(messages.id, data.messageId));
    if (!row) throw new UnrecoverableError(`message ${data.messageId} not found`);
    if (row.m.deliveryStatus !== 'queued') {
      await acknowledgeOutbox(deps.db, data.outboxId);
      return;
    }
    // The link's adapter sends: a Twilio account's link carries both 'sms' and 'voice' conversations.
    const adapter = deps.adapters.get(row.linkChannel);
    if (adapter?.links && !job.queueName.startsWith('link-')) {
      // Only the process holding the link's lease can send on it: hand the job to the link's queue.
      await deps.enqueue.deliverViaLink(row.m.channelLinkId, data);
      return;
    }
    const attempts = job.opts.attempts ?? 1;
    const last = job.attemptsMade + 1 >= attempts;
    let result: SendResult;
    try {
      if (!adapter) throw new AppError('no_adapter', `no adapter for channel ${row.linkChannel}`, { retryable: true });
      result = await adapter.send({
        messageId: row.m.id,
        conversationId: row.m.conversationId,
        channel: row.channel,
        channelLinkId: row.m.channelLinkId,
        to: row.to,
        text: row.m.body,
        attachments: row.m.attachments,
        kind: row.m.direction === 'system' ? 'system' : 'reply',
        authorName: row.authorName,
      });
    } catch (err) {
      const retryable = err instanceof AppError ? err.retryable : true;
      const message = err instanceof Error ? err.message : String(err);
      if (!retryable || last) {
        await recordDelivery(deps, row.m.id, 'failed', { error: message });
        await acknowledgeOutbox(deps.db, data.outboxId);
        deps.metrics?.outbound.inc({ channel: row.channel, status: 'failed' });
        log.warn({ err, attempts: job.attemptsMade + 1 }, 'outbound message failed for good');
        throw new UnrecoverableError(message);
      }
      throw err;
    }
    // Sent: a failure to record it must not send it again, so recording retries on its own
    // rather than failing the job (whose retry would call send a second time).
    const sent = result;
    await persist(log, () => recordDelivery(deps, row.m.id, sent.status, { channelMessageId: sent.channelMessageId }));
    await persist(log, () => acknowledgeOutbox(deps.db, data.outboxId));
    deps.metrics?.outbound.inc({ channel: row.channel, status: 'sent' });
    log.info({ channel: row.channel, status: sent.status }, 'message delivered to channel');
  };
}
