/**
 * The routing worker: scores a conversation when a message arrives, pushes
 * the message to the console, and offers waiting conversations to agents.
 * Idempotent: keyed on the outbox row, which is acknowledged last.
 */
import { and, desc, eq, lt, ne, sql } from 'drizzle-orm';
import { UnrecoverableError, type Job } from '../src/queue/backend.ts';
import { dispatchJob, routeJob, type DispatchJob, type RouteJob } from '../src/queue/catalog.ts';
import type { ConsoleService } from '../src/console/service.ts';
import type { Logger } from '../src/log.ts';
import { scorePriority } from '../src/routing/priority.ts';
import type { AssignmentPolicy } from '../src/routing/policy.ts';
import { dispatchOnce, OptimisticConflict, reopenConversation } from '../src/store/assignments.ts';
import { getConversation, getConversationView, recordEvent } from '../src/store/conversations.ts';
import type { Db } from '../src/store/db.ts';
import { acknowledgeOutbox, isOutboxDone } from '../src/store/outbox.ts';
import type { RuleCache } from '../src/store/rules.ts';
import { conversations, messages, type ConversationRow } from '../src/store/schema.ts';
import type { Notifier } from '../src/realtime/notifier.ts';

export interface RoutingDeps {
  db: Db;
  rules: RuleCache;
  policy: AssignmentPolicy;
  console: ConsoleService;
  notifier: Notifier;
  log: Logger;
}

const MAX_DISPATCH_RETRIES = 8;

/** Raises a queued conversation's priority from the rules and sets its queue. */
async function score(deps: RoutingDeps, conversation: ConversationRow, messageId: number | null, log: Logger): Promise<void> {
  const conversationId = conversation.id;
  const [message] = messageId
    ? await deps.db.select({ body: messages.body }).from(messages).where(eq(messages.id, messageId))
    : [];
  const [previous] = await deps.db
    .select({ openedAt: conversations.openedAt })
    .from(conversations)
    .where(and(eq(conversations.contactId, conversation.contactId), ne(conversations.id, conversation.id), lt(conversations.openedAt, conversation.openedAt)))
    .orderBy(desc(conversations.openedAt))
    .limit(1);
  const { rules, defaultQueueId } = await deps.rules.get();
  const result = scorePriority(rules, {
    channel: conversation.channel,
    text: message?.body ?? '',
    secondsSincePreviousConversation: previous ? (conversation.openedAt.getTime() - previous.openedAt.getTime()) / 1000 : null,
  });
  const queueId = conversation.queueId ?? result.queueId ?? defaultQueueId;
  if (result.priority <= conversation.priority && queueId === conversation.queueId) return;
  await deps.db
    .update(conversations)
    .set({
      priority: sql`greatest(${conversations.priority}, ${result.priority})`,
      queueId,
      version: sql`${conversations.version} + 1`,
    })
    .where(eq(conversations.id, conversationId));
  if (result.priority > conversation.priority) {
    await recordEvent(deps.db, {
      conversationId,
      type: 'conversation.prioritised',
      actorType: 'system',
      data: { priority: Math.max(result.priority, conversation.priority), matched: result.matched, queueId },
    });
  }
  log.info({ decision: 'score', conversationId, priority: result.priority, matched: result.matched, queueId }, 'conversation scored');
}

/**
 * Offers waiting conversations until the policy has nothing to assign.
 * Conflicts (a concurrent accept, presence change) retry with fresh data.
 */
export async function dispatch(deps: RoutingDeps, reason: string, log: Logger): Promise<number> {
  for (let attempt = 0; attempt < MAX_DISPATCH_RETRIES; attempt++) {
    try {
      const plan = await dispatchOnce(deps.db, deps.policy);
      for (const a of plan) {
        log.info({ decision: 'offer', trigger: reason, ...a }, 'conversation offered');
        const view = await getConversationView(deps.db, a.conversationId);
        if (view) {
          deps.notifier.toAgents({ agentIds: [a.agentId] }, 'conversation:offered', view);
          deps.notifier.toAgents({ supervisors: true, conversationId: a.conversationId }, 'conversation:updated', view);
        }
      }
      return plan.length;
    } catch (err) {
      if (!(err instanceof OptimisticConflict)) throw err;
      log.debug({ attempt, err: err.message }, 'dispatch conflict; retrying');
    }
  }
  throw new Error('dispatch kept conflicting; will retry the job');
}

/** Processes one routing-queue job (route or dispatch). */
export function createRoutingProcessor(deps: RoutingDeps) {
  return async (job: Job<RouteJob | DispatchJob>): Promise<void> => {
    const log = deps.log.child({ component: 'routing', jobId: job.id });
    if (job.name === 'dispatch') {
      const data = dispatchJob.parse(job.data);
      await dispatch(deps, data.reason, log);
      return;
    }
    const data = routeJob.parse(job.data);
    if (await isOutboxDone(deps.db, data.outboxId)) return;
    const jobLog = log.child({ conversationId: data.conversationId, messageId: data.messageId });
    let conversation = await getConversation(deps.db, data.conversationId);
    if (!conversation) throw new UnrecoverableError(`conversation ${data.conversationId} not found`);
    if (conversation.status === 'resolved' || conversation.status === 'abandoned') {
      // Resolved between this message's commit and its routing: nobody has seen it, so it must not stay closed.
      const reopened = await reopenConversation(deps.db, conversation.id, 'message arrived as it closed');
      jobLog.warn({ decision: 'reopen', reopened }, 'message arrived in a closed conversation');
      if (reopened) conversation = (await getConversation(deps.db, data.conversationId)) ?? conversation;
      else await deps.console.publishConversation(conversation.id);
    }
    if (conversation.status === 'queued') await score(deps, conversation, data.messageId, jobLog);
    if (data.messageId) await deps.console.publishMessage(data.messageId, conversation.agentId);
    if (conversation.status === 'queued') await dispatch(deps, 'new message', jobLog);
    await acknowledgeOutbox(deps.db, data.outboxId);
  };
}
