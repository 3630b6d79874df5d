/**
 * Setting timers from the durations of a conversation's queue (the default
 * queue while it has none). Job ids come from the state each timer is set
 * for, so setting one twice is a no-op and a stale one does nothing.
 */
import type { Db } from '../store/db.ts';
import { getQueueSettings, minutesToMs, secondsToMs } from '../store/queue-settings.ts';
import type { Enqueuer } from './enqueue.ts';

export interface ScheduleDeps {
  db: Db;
  enqueue: Enqueuer;
}

/** The offer of `conversationId` to `agentId` at `version` expires after the queue's offer timeout. */
export async function scheduleOfferTimeout(deps: ScheduleDeps, o: { conversationId: string; agentId: string; version: number; queueId: string | null }): Promise<void> {
  const q = await getQueueSettings(deps.db, o.queueId);
  await deps.enqueue.timer({ kind: 'offer-timeout', conversationId: o.conversationId, agentId: o.agentId, version: o.version }, secondsToMs(q.offerTimeoutSeconds));
}

/** Escalation when still waiting at `queuedAt` + the queue's answer target (`answerTargetSeconds` when the caller has read it). */
export async function scheduleEscalation(
  deps: ScheduleDeps,
  o: { conversationId: string; queuedAt: Date; queueId: string | null; answerTargetSeconds?: number },
): Promise<void> {
  const seconds = o.answerTargetSeconds ?? (await getQueueSettings(deps.db, o.queueId)).answerTargetSeconds;
  const due = o.queuedAt.getTime() + secondsToMs(seconds);
  await deps.enqueue.timer({ kind: 'escalate', conversationId: o.conversationId, queuedAt: o.queuedAt.toISOString() }, due - Date.now());
}

/**
 * The inactivity check of a conversation whose last message was at
 * `lastMessageAt`; `inactivityMinutes` when the caller has read its queue.
 */
export async function scheduleInactivity(
  deps: ScheduleDeps,
  o: { conversationId: string; lastMessageAt: Date; queueId: string | null; inactivityMinutes?: number },
): Promise<void> {
  const minutes = o.inactivityMinutes ?? (await getQueueSettings(deps.db, o.queueId)).inactivityMinutes;
  const due = new Date(Math.max(o.lastMessageAt.getTime() + minutesToMs(minutes), Date.now()));
  await deps.enqueue.timer({ kind: 'inactivity', conversationId: o.conversationId, dueAt: due.toISOString() }, due.getTime() - Date.now());
}

/** The end of the callback window after an emergency conversation resolved at `resolvedAt`. */
export async function scheduleCallbackWindow(deps: ScheduleDeps, o: { conversationId: string; resolvedAt: Date; queueId: string | null }): Promise<void> {
  const q = await getQueueSettings(deps.db, o.queueId);
  const due = o.resolvedAt.getTime() + minutesToMs(q.callbackWindowMinutes);
  await deps.enqueue.timer({ kind: 'callback-window', conversationId: o.conversationId, resolvedAt: o.resolvedAt.toISOString() }, due - Date.now());
}
