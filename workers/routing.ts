/**
 * The routing worker: scores a conversation when a message arrives, pushes
 * the message to the console, and offers waiting conversations to agents.
 * Idempotent: keyed on the outbox row, which is acknowledged last.
 */
import { and, desc, eq, lt, ne, sql } from 'drizzle-orm';
import type { Job } from '../src/queue/backend.ts';
import { dispatchJob, routeJob, type DispatchJob, type RouteJob } from '../src/queue/catalog.ts';
import type { ConsoleService } from '../src/console/service.ts';
import { lazyChild, type Logger } from '../src/log.ts';
import { scorePriority } from '../src/routing/priority.ts';
import type { AssignmentPolicy } from '../src/routing/policy.ts';
import { dispatchOnce, OptimisticConflict, reopenConversation, type ConsoleProbe } from '../src/store/assignments.ts';
import { getConversation, getConversationView, recordEvent } from '../src/store/conversations.ts';
import { callbackPriority } from '../src/store/calls.ts';
import { enqueueAfterCommit, type Enqueuer } from '../src/queue/enqueue.ts';
import { scheduleEscalation, scheduleInactivity, scheduleOfferTimeout } from '../src/queue/schedule.ts';
import { sendSystemText } from '../src/outbound/system-text.ts';
import { isOpen } from '../src/routing/opening-hours.ts';
import { weightFor, type ChannelWeights } from '../src/routing/weights.ts';
import { getQueueSettings, minutesToMs } from '../src/store/queue-settings.ts';
import {
  closedForInactivity,
  countWaitingIn,
  ESCALATION_PRIORITY_BOOST,
  findPreviousConversation,
  lastOfferEventId,
  linkToPrevious,
  signedInAgentIds,
} from '../src/store/timer-writes.ts';
import type postgres from 'postgres';
import type { Db } from '../src/store/db.ts';
import type { RuleCache } from '../src/store/rules.ts';
import { conversations, type ConversationRow } from '../src/store/schema.ts';
import { createRouteStore, type RouteSnapshot } from '../src/store/route-snapshot.ts';
import type { Notifier } from '../src/realtime/notifier.ts';

export interface RoutingDeps {
  db: Db;
  sql: postgres.Sql;
  rules: RuleCache;
  policy: AssignmentPolicy;
  console: ConsoleService;
  notifier: Notifier;
  log: Logger;
  enqueue: Enqueuer;
  /** Load units per channel (conversations.weight). */
  weights: ChannelWeights;
  /** Which agents have a console connected: "signed in" for bounce-backs and the callback window. */
  reachable: ConsoleProbe;
}

const MAX_DISPATCH_RETRIES = 8;

/** Raises a queued conversation's priority from the rules and sets its queue. */
async function score(deps: RoutingDeps, conversation: RouteSnapshot['conversation'] & { weight: number }, text: string, log: Logger): Promise<void> {
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
  const weight = weightFor(deps.weights, conversation.channel);
  if (result.priority <= conversation.priority && queueId === conversation.queueId && weight === conversation.weight) return;
  await deps.db
    .update(conversations)
    .set({
      priority: sql`greatest(${conversations.priority}, ${result.priority})`,
      queueId,
      // The weight is what an offer takes from the agent's capacity: only changed while nobody holds it.
      weight: sql`case when ${conversations.status} = 'queued' then ${weight} else ${conversations.weight} end`,
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
      const plan = await dispatchOnce(deps.db, deps.policy, 200, { reachable: deps.reachable });
      for (const a of plan) {
        log.info({ decision: 'offer', trigger: reason, ...a }, 'conversation offered');
        const view = await getConversationView(deps.db, a.conversationId);
        if (view) {
          deps.notifier.toAgents({ agentIds: [a.agentId] }, 'conversation:offered', view);
          deps.notifier.toAgents({ supervisors: true, conversationId: a.conversationId }, 'conversation:updated', view);
        }
        const err = await enqueueAfterCommit(
          scheduleOfferTimeout(deps, { conversationId: a.conversationId, agentId: a.agentId, version: a.offeredVersion, queueId: view?.queueId ?? null }),
        );
        // The offer stands without its timer; the answer-target escalation still offers it to everyone.
        if (err) log.error({ err, conversationId: a.conversationId }, 'setting the offer timeout failed');
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

/**
 * A fresh conversation after the contact's previous one: linked to it when
 * that one was closed for inactivity, or, within the callback window after
 * an emergency, also sent to the agent who handled it first, at the top of
 * the queue.
 */
async function linkPrevious(deps: RoutingDeps, c: ConversationRow, log: Logger): Promise<void> {
  const previous = await findPreviousConversation(deps.db, c);
  if (!previous) return;
  const queue = previous.emergency ? await getQueueSettings(deps.db, previous.queueId) : undefined;
  const inWindow =
    queue !== undefined && previous.resolvedAt !== null && previous.resolvedAt.getTime() + minutesToMs(queue.callbackWindowMinutes) > Date.now();
  if (inWindow) {
    const priority = (await callbackPriority(deps.db)) + ESCALATION_PRIORITY_BOOST;
    const linked = await linkToPrevious(deps.db, {
      conversationId: c.id,
      previousConversationId: previous.id,
      reason: 'callback_window',
      preferredAgentId: previous.agentId,
      priority,
    });
    if (linked) log.info({ decision: 'callback-window', previousConversationId: previous.id, preferredAgentId: previous.agentId, priority }, 'callback window: previous agent first');
    return;
  }
  if (await closedForInactivity(deps.db, previous.id)) {
    await linkToPrevious(deps.db, { conversationId: c.id, previousConversationId: previous.id, reason: 'inactivity', preferredAgentId: null });
    log.info({ decision: 'link', previousConversationId: previous.id }, 'new conversation after an inactivity close');
  }
}

export type BounceCause = 'closed' | 'no_agent' | 'queue_full';

/**
 * Tells the sender at once, on their channel, when a text cannot be taken:
 * outside opening hours, nobody signed in (not offline, a console
 * connected), or too many waiting. The conversation stays queued. Once per
 * cause until an agent is offered it; never on voice.
 */
async function bounceBack(deps: RoutingDeps, c: ConversationRow, log: Logger): Promise<void> {
  if (c.channel === 'voice' || !c.queueId) return;
  const queue = await getQueueSettings(deps.db, c.queueId);
  let cause: BounceCause | undefined;
  if (!isOpen(queue.openingHours, new Date())) cause = 'closed';
  else {
    const signedIn = await signedInAgentIds(deps.db, c.queueId);
    const connected = signedIn.length > 0 ? await deps.reachable(signedIn) : new Set<string>();
    if (connected.size === 0) cause = 'no_agent';
    else if ((await countWaitingIn(deps.db, c.queueId)) > queue.maxWaiting) cause = 'queue_full';
  }
  if (!cause) return;
  const since = await lastOfferEventId(deps.db, c.id);
  const messageId = await sendSystemText(deps, { ...c, conversationId: c.id }, queue.bounceBackText, `bounce-${cause}-${since}`);
  if (messageId === undefined) return;
  await recordEvent(deps.db, { conversationId: c.id, type: 'bounce_back.sent', actorType: 'system', data: { cause, messageId } });
  await deps.console.publishMessage(messageId, c.agentId);
  log.info({ decision: 'bounce-back', cause, messageId }, 'text bounced back: it cannot be taken now');
}

/** What setting a conversation's timers needs to know of it. */
type TimerView = Pick<ConversationRow, 'id' | 'status' | 'escalatedAt' | 'queuedAt' | 'lastMessageAt' | 'queueId'>;

/**
 * How long this process trusts an inactivity check it set. Within it, later
 * messages of the conversation set none: the check, when it fires, moves
 * itself to the last message's time plus the timeout. Past it (or in another
 * process) a message sets one again, which also replaces a check lost with
 * Redis. Keyed by the conversation's queueing, so a reopened one gets its own.
 */
const INACTIVITY_REARM_MS = 60_000;
const ARMED_MAX = 100_000;

/** The inactivity checks this process set recently, oldest first. */
export class ArmedChecks {
  private readonly at = new Map<string, number>();

  /** True if a check for this queueing was set within INACTIVITY_REARM_MS; otherwise records one as set now. */
  seen(c: Pick<TimerView, 'id' | 'queuedAt'>, now = Date.now()): boolean {
    const key = `${c.id}:${c.queuedAt.getTime()}`;
    const at = this.at.get(key);
    if (at !== undefined && now - at < INACTIVITY_REARM_MS) return true;
    this.at.delete(key);
    this.at.set(key, now);
    if (this.at.size > ARMED_MAX) this.at.delete(this.at.keys().next().value as string);
    return false;
  }

  forget(c: Pick<TimerView, 'id' | 'queuedAt'>): void {
    this.at.delete(`${c.id}:${c.queuedAt.getTime()}`);
  }
}

/**
 * The answer-target escalation of a waiting conversation and the inactivity
 * check of an open one. `queue`: the queue's timings when already read.
 */
async function setConversationTimers(
  deps: RoutingDeps,
  c: TimerView,
  queue: RouteSnapshot['queue'],
  armed: ArmedChecks,
  log: Logger,
): Promise<void> {
  const set: Array<{ done: Promise<void>; failed?: () => void }> = [];
  if (c.status === 'queued' || c.status === 'offered') {
    if (!c.escalatedAt || c.escalatedAt < c.queuedAt) {
      set.push({ done: scheduleEscalation(deps, { conversationId: c.id, queuedAt: c.queuedAt, queueId: c.queueId, answerTargetSeconds: queue?.answerTargetSeconds }) });
    }
  }
  if (c.status !== 'resolved' && c.status !== 'abandoned' && !armed.seen(c)) {
    set.push({
      done: scheduleInactivity(deps, { conversationId: c.id, lastMessageAt: c.lastMessageAt, queueId: c.queueId, inactivityMinutes: queue?.inactivityMinutes }),
      failed: () => armed.forget(c),
    });
  }
  const errors = await Promise.all(set.map((t) => enqueueAfterCommit(t.done)));
  errors.forEach((err, i) => {
    if (!err) return;
    set[i]!.failed?.();
    log.error({ err }, 'setting a conversation timer failed');
  });
}

/** Processes one routing-queue job (route or dispatch). */
export function createRoutingProcessor(deps: RoutingDeps) {
  const dispatch = createDispatcher(deps);
  const armed = new ArmedChecks();
  const routes = createRouteStore(deps.sql);
  return async (job: Job<RouteJob | DispatchJob>): Promise<void> => {
    const log = lazyChild(deps.log, { component: 'routing', jobId: job.id });
    if (job.name === 'dispatch') {
      const data = dispatchJob.parse(job.data);
      await dispatch(data.reason, log);
      return;
    }
    const data = routeJob.parse(job.data);
    const snapshot = await routes.load(data.outboxId);
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
    const waiting = conversation.status === 'queued';
    if (waiting) {
      const row = await getConversation(deps.db, conversation.id);
      if (row && !row.previousConversationId) await linkPrevious(deps, row, jobLog);
      await score(deps, { ...conversation, weight: row?.weight ?? 1 }, message?.body ?? '', jobLog);
    }
    if (message) {
      deps.notifier.toAgents({ agentIds: [conversation.agentId], conversationId: conversation.id, supervisors: true }, 'message:new', message);
    }
    if (waiting) {
      // Scored and offered: read again for the bounce-back and the timers.
      await dispatch('new message', jobLog);
      const current = await getConversation(deps.db, conversation.id);
      if (current) {
        if (current.status === 'queued' && message?.direction === 'inbound') await bounceBack(deps, current, jobLog);
        await setConversationTimers(deps, current, null, armed, jobLog);
      }
    } else {
      // An assigned conversation, as the snapshot read it: a change since only moves a timer, which checks again when it fires.
      await setConversationTimers(deps, conversation, snapshot.queue, armed, jobLog);
    }
    await routes.acknowledge(data.outboxId);
  };
}
