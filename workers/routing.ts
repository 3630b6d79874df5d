/**
 * The routing worker: scores a conversation when a message arrives, pushes
 * the message to the console, and offers waiting conversations to agents.
 * Idempotent: keyed on the outbox row, which is acknowledged last.
 */
import { and, desc, eq, lt, ne, sql } from 'drizzle-orm';
import type { Job } from '../src/queue/backend.ts';
import { dispatchJob, routeJob, type DispatchJob, type RouteJob } from '../src/queue/catalog.ts';
import type { ConsoleService } from '../src/console/service.ts';
import type { Logger } from '../src/log.ts';
import { scorePriority } from '../src/routing/priority.ts';
import type { AssignmentPolicy } from '../src/routing/policy.ts';
import { dispatchOnce, OptimisticConflict, reopenConversation } from '../src/store/assignments.ts';
import { getConversationView, recordEvent } from '../src/store/conversations.ts';
import type postgres from 'postgres';
import type { Db } from '../src/store/db.ts';
import type { RuleCache } from '../src/store/rules.ts';
import { conversations } from '../src/store/schema.ts';
import { acknowledgeRoute, loadRouteSnapshot, type RouteSnapshot } from '../src/store/route-snapshot.ts';
import type { Notifier } from '../src/realtime/notifier.ts';

export interface RoutingDeps {
  db: Db;
  sql: postgres.Sql;
  rules: RuleCache;
  policy: AssignmentPolicy;
  console: ConsoleService;
  notifier: Notifier;
  log: Logger;
}

const MAX_DISPATCH_RETRIES = 8;

/** Raises a queued conversation's priority from the rules and sets its queue. */
async function score(deps: RoutingDeps, conversation: RouteSnapshot['conversation'], text: string, log: Logger): Promise<void> {
  const conversationId = conversation.id;
  const [previous] = await deps.db
    .select({ openedAt: conversations.openedAt })
    .from(conversations)
    .where(and(eq(conversations.contactId, conversation.contactId), ne(conversations.id, conversation.id), lt(conversations.openedAt, conversation.openedAt)))
    .orderBy(desc(conversations.openedAt))
    .limit(1);
  const { rules, defaultQueueId } = await deps.rules.get();
  const result = scorePriority(rules, {
    channel: conversation.channel,
    text,
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
async function dispatchPass(deps: RoutingDeps, reason: string, log: Logger): Promise<number> {
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

/**
 * Coalesces dispatch requests within the process: at most one pass runs and
 * one waits. A request made while a pass runs is served by the next pass,
 * which starts after the request and so sees everything committed before it.
 * (Passes of different processes are serialised by the advisory lock.)
 */
export function createDispatcher(deps: RoutingDeps) {
  let running: Promise<number> | undefined;
  let next: Promise<number> | undefined;
  const run = (reason: string, log: Logger): Promise<number> => {
    const pass = dispatchPass(deps, reason, log).finally(() => {
      if (running === pass) running = undefined;
    });
    running = pass;
    return pass;
  };
  return (reason: string, log: Logger): Promise<number> => {
    if (!running) return run(reason, log);
    next ??= running
      .catch(() => 0)
      .then(() => {
        next = undefined;
        return run(reason, log);
      });
    return next;
  };
}

/** Processes one routing-queue job (route or dispatch). */
export function createRoutingProcessor(deps: RoutingDeps) {
  const dispatch = createDispatcher(deps);
  return async (job: Job<RouteJob | DispatchJob>): Promise<void> => {
    const log = deps.log.child({ component: 'routing', jobId: job.id });
    if (job.name === 'dispatch') {
      const data = dispatchJob.parse(job.data);
      await dispatch(data.reason, log);
      return;
    }
    const data = routeJob.parse(job.data);
    const snapshot = await loadRouteSnapshot(deps.sql, data.outboxId);
    if (!snapshot || snapshot.processed) return;
    const jobLog = log.child({ conversationId: data.conversationId, messageId: data.messageId });
    let conversation = snapshot.conversation;
    if (conversation.status === 'resolved' || conversation.status === 'abandoned') {
      // Resolved between this message's commit and its routing: nobody has seen it, so it must not stay closed.
      const reopened = await reopenConversation(deps.db, conversation.id, 'message arrived as it closed');
      jobLog.warn({ decision: 'reopen', reopened }, 'message arrived in a closed conversation');
      if (reopened) conversation = { ...conversation, status: 'queued', agentId: null };
      else await deps.console.publishConversation(conversation.id);
    }
    const message = snapshot.message;
    if (conversation.status === 'queued') await score(deps, conversation, message?.body ?? '', jobLog);
    if (message) {
      deps.notifier.toAgents({ agentIds: [conversation.agentId], conversationId: conversation.id, supervisors: true }, 'message:new', message);
    }
    if (conversation.status === 'queued') await dispatch('new message', jobLog);
    await acknowledgeRoute(deps.sql, data.outboxId);
  };
}
