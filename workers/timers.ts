/**
 * The timers worker: offer timeouts, answer-target escalations, inactivity
 * closes, the end of callback windows, escalation e-mails and e-mails to
 * emergency contacts. Each timer acts only on the state it was set for (see
 * src/store/timer-writes.ts), so a stale timer, a repeated one or one run
 * again after a crash is a no-op.
 */
import { UnrecoverableError, type Job } from '../src/queue/backend.ts';
import { timerJob, timerJobId, type TimerJob } from '../src/queue/catalog.ts';
import { enqueueAfterCommit, type Enqueuer } from '../src/queue/enqueue.ts';
import { scheduleCallbackWindow, scheduleInactivity } from '../src/queue/schedule.ts';
import type { ConsoleService } from '../src/console/service.ts';
import { lazyChild, type Logger } from '../src/log.ts';
import type { AlertMailer } from '../src/outbound/alert-mail.ts';
import { emailEmergencyContacts } from '../src/outbound/emergency-mail.ts';
import { sendSystemText } from '../src/outbound/system-text.ts';
import type { Notifier } from '../src/realtime/notifier.ts';
import { getAgent } from '../src/store/agents.ts';
import { resolveConversation, UnroutedMessages } from '../src/store/assignments.ts';
import { getConversation, getConversationView, recordEvent } from '../src/store/conversations.ts';
import type { Db } from '../src/store/db.ts';
import { getQueueSettings, minutesToMs } from '../src/store/queue-settings.ts';
import {
  availableAgentIds,
  escalateConversation,
  expireOffer,
  resetMissedOffers,
  supervisorsToAlert,
} from '../src/store/timer-writes.ts';

export interface TimerDeps {
  db: Db;
  enqueue: Enqueuer;
  console: ConsoleService;
  notifier: Notifier;
  /** Absent when no SMTP server is configured: escalation and emergency contact e-mails are skipped (logged). */
  mailer?: AlertMailer;
  /** The console's address, for links in e-mails. */
  consoleUrl: () => string;
  log: Logger;
}

const ESCALATION_REASON = 'answer target missed';

/** An offer not accepted in time: back to the queue, to someone else; enough misses in a row set the agent away. */
async function offerTimeout(deps: TimerDeps, job: Extract<TimerJob, { kind: 'offer-timeout' }>, log: Logger): Promise<void> {
  const conversation = await getConversation(deps.db, job.conversationId);
  if (!conversation) return;
  const queue = await getQueueSettings(deps.db, conversation.queueId);
  const expired = await expireOffer(deps.db, { ...job, timeoutSeconds: queue.offerTimeoutSeconds });
  if (!expired) return;
  log.info({ decision: 'offer-timeout', agentId: job.agentId, missedOffers: expired.missedOffers }, 'offer not accepted in time; requeued');
  await deps.console.publishConversation(job.conversationId, [job.agentId]);
  deps.notifier.leaveConversation(job.agentId, job.conversationId);
  if (expired.missedOffers >= queue.missedOffersBeforeAway && expired.presence === 'available') {
    await deps.console.setPresenceFor(job.agentId, 'away');
    await resetMissedOffers(deps.db, job.agentId);
    await recordEvent(deps.db, {
      conversationId: null,
      type: 'agent.set_away',
      actorType: 'system',
      data: { agentId: job.agentId, reason: 'missed offers', missedOffers: expired.missedOffers, lastConversationId: job.conversationId },
    });
    log.warn({ agentId: job.agentId, missedOffers: expired.missedOffers }, 'agent set away after missed offers');
  }
  await deps.enqueue.dispatch({ reason: 'offer timed out' });
}

/** Unanswered past the answer target: supervisors alerted, offered to everyone, raised, the citizen told. */
async function escalate(deps: TimerDeps, job: Extract<TimerJob, { kind: 'escalate' }>, log: Logger): Promise<void> {
  const conversation = await getConversation(deps.db, job.conversationId);
  if (!conversation) return;
  const queue = await getQueueSettings(deps.db, conversation.queueId);
  const done = await escalateConversation(deps.db, {
    conversationId: job.conversationId,
    queuedAt: new Date(job.queuedAt),
    reason: ESCALATION_REASON,
    answerTargetSeconds: queue.answerTargetSeconds,
  });
  if (!done) return;
  log.warn({ decision: 'escalate', priority: done.priority, answerTargetSeconds: queue.answerTargetSeconds }, 'conversation escalated');
  const view = await getConversationView(deps.db, job.conversationId);
  if (view) {
    const at = done.escalatedAt.toISOString();
    deps.notifier.toAgents({ supervisors: true }, 'conversation:escalated', { conversation: view, reason: ESCALATION_REASON, at });
    // Offered to all: every available agent sees it as an offer; the first accept takes it.
    const everyone = await availableAgentIds(deps.db);
    if (everyone.length > 0) deps.notifier.toAgents({ agentIds: everyone }, 'conversation:offered', view);
    deps.notifier.toAgents({ agentIds: [view.agentId], conversationId: view.id, supervisors: true }, 'conversation:updated', view);
  }
  const text = await sendSystemText(deps, { ...conversation, conversationId: conversation.id }, queue.escalationText, `escalation-${new Date(job.queuedAt).getTime()}`);
  if (text !== undefined) {
    await recordEvent(deps.db, { conversationId: conversation.id, type: 'escalation_text.sent', actorType: 'system', data: { messageId: text } });
    await deps.console.publishMessage(text);
  }
  const supervisors = await supervisorsToAlert(deps.db);
  if (!deps.mailer) {
    if (supervisors.length > 0) log.info({ supervisors: supervisors.length }, 'no SMTP configured (ALERT_SMTP_URL): escalation e-mails skipped');
  } else {
    for (const s of supervisors) {
      const err = await enqueueAfterCommit(
        deps.enqueue.timer({ kind: 'escalation-email', conversationId: conversation.id, agentId: s.id, escalatedAt: done.escalatedAt.toISOString() }, 0),
      );
      if (err) log.error({ err, agentId: s.id }, 'queueing an escalation e-mail failed');
    }
  }
  await deps.enqueue.dispatch({ reason: 'escalated' });
}

async function escalationEmail(deps: TimerDeps, job: Extract<TimerJob, { kind: 'escalation-email' }>, log: Logger): Promise<void> {
  if (!deps.mailer) return;
  const [agent, view] = await Promise.all([getAgent(deps.db, job.agentId), getConversationView(deps.db, job.conversationId)]);
  if (!agent?.email || !view) return;
  const link = `${deps.consoleUrl()}/console#conversation=${view.id}`;
  const sent = await deps.mailer.send({
    to: agent.email,
    subject: `Escalation: a ${view.channel} conversation has not been answered`,
    text: [
      `A ${view.channel} conversation missed its answer target and was escalated at ${job.escalatedAt}.`,
      `Conversation: ${view.id}`,
      `Priority: ${view.priority}. Status: ${view.status}.`,
      `Open it in the console: ${link}`,
    ].join('\n'),
  });
  await recordEvent(deps.db, { conversationId: job.conversationId, type: 'alert.emailed', actorType: 'system', data: { agentId: job.agentId, reason: 'escalation', messageId: sent.messageId } });
  log.info({ agentId: job.agentId }, 'escalation e-mailed to a supervisor');
}

/** No message either way for the queue's inactivity timeout: an open conversation is closed. */
async function inactivity(deps: TimerDeps, job: Extract<TimerJob, { kind: 'inactivity' }>, log: Logger): Promise<void> {
  const conversation = await getConversation(deps.db, job.conversationId);
  if (!conversation || conversation.status === 'resolved' || conversation.status === 'abandoned') return;
  const queue = await getQueueSettings(deps.db, conversation.queueId);
  const dueAt = conversation.lastMessageAt.getTime() + minutesToMs(queue.inactivityMinutes);
  const reschedule = (from: Date) => scheduleInactivity(deps, { conversationId: conversation.id, lastMessageAt: from, queueId: conversation.queueId });
  if (dueAt > Date.now()) return reschedule(conversation.lastMessageAt);
  // A conversation nobody has accepted is an unanswered emergency: it waits (and escalates), never closed for silence.
  if (conversation.status !== 'active' && conversation.status !== 'on_hold') return reschedule(new Date());
  const done = await resolveConversation(deps.db, conversation.id, 'timed_out', { type: 'system' }).catch((err: unknown) => {
    if (err instanceof UnroutedMessages) return null;
    throw err;
  });
  if (done === null) return reschedule(new Date());
  if (!done) return;
  await recordEvent(deps.db, {
    conversationId: conversation.id,
    type: 'conversation.timed_out',
    actorType: 'system',
    data: { inactivityMinutes: queue.inactivityMinutes, lastMessageAt: conversation.lastMessageAt.toISOString() },
  });
  log.info({ decision: 'inactivity-close', inactivityMinutes: queue.inactivityMinutes }, 'conversation closed for inactivity');
  const text = await sendSystemText(deps, { ...conversation, conversationId: conversation.id }, queue.inactivityText, `inactivity-${conversation.version}`);
  if (text !== undefined) await deps.console.publishMessage(text, done.agentId);
  if (done.emergency) await scheduleCallbackWindow(deps, { conversationId: conversation.id, resolvedAt: done.resolvedAt, queueId: conversation.queueId });
  await deps.console.publishConversation(conversation.id, [done.agentId]);
  if (done.agentId) {
    deps.notifier.leaveConversation(done.agentId, conversation.id);
    if (done.restoredPresence) await deps.console.setPresenceFor(done.agentId, done.restoredPresence);
  }
  await deps.enqueue.dispatch({ reason: 'capacity freed' });
}

/** The callback window after an emergency ended: recorded, so the audit trail shows when the preference lapsed. */
async function callbackWindow(deps: TimerDeps, job: Extract<TimerJob, { kind: 'callback-window' }>, log: Logger): Promise<void> {
  const conversation = await getConversation(deps.db, job.conversationId);
  if (!conversation?.emergency || conversation.resolvedAt?.getTime() !== new Date(job.resolvedAt).getTime()) return;
  const queue = await getQueueSettings(deps.db, conversation.queueId);
  await recordEvent(deps.db, {
    conversationId: conversation.id,
    type: 'callback_window.closed',
    actorType: 'system',
    data: { resolvedAt: job.resolvedAt, callbackWindowMinutes: queue.callbackWindowMinutes, agentId: conversation.agentId },
  });
  log.info({ decision: 'callback-window-closed' }, 'callback window ended');
}

/** Processes one timer job. */
export function createTimerProcessor(deps: TimerDeps) {
  return async (job: Job<TimerJob>): Promise<void> => {
    const parsed = timerJob.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`malformed timer job ${job.id}`);
    const data = parsed.data;
    const log = lazyChild(deps.log, { component: 'timers', jobId: job.id ?? timerJobId(data), conversationId: data.conversationId, timer: data.kind });
    switch (data.kind) {
      case 'offer-timeout':
        return offerTimeout(deps, data, log);
      case 'escalate':
        return escalate(deps, data, log);
      case 'escalation-email':
        return escalationEmail(deps, data, log);
      case 'emergency-contacts-email':
        return emailEmergencyContacts(deps, data, log);
      case 'inactivity':
        return inactivity(deps, data, log);
      case 'callback-window':
        return callbackWindow(deps, data, log);
    }
  };
}
