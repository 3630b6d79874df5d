/**
 * The job catalog: each queue's payload is a zod schema with its retry and
 * timeout policy beside it. Job ids derive from the ids they act on, so a
 * re-enqueue (sweeper, retry after a crash) never runs a job twice at once.
 */
import { z } from 'zod';

export const QUEUE_NAMES = { routing: 'routing', outbound: 'outbound', timers: 'timers' } as const;
/** A catalog queue, or a link's own delivery queue (see `linkQueueName`). */
export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES] | `link-${string}`;

/**
 * The delivery queue of one run-time link (an SMPP bind): consumed only by
 * the process holding the link's lease, so a reply reaches the one process
 * that can send it; after a hand-over the new holder takes the queue over.
 */
export const linkQueueName = (linkId: string): QueueName => `link-${linkId}`;

/** A new inbound message: score its conversation, push it, dispatch waiting work. */
export const routeJob = z.object({
  outboxId: z.number().int().positive(),
  conversationId: z.string().uuid(),
  messageId: z.number().int().positive().nullable(),
});
export type RouteJob = z.infer<typeof routeJob>;

/** Capacity was freed or an agent came online: offer waiting conversations. */
export const dispatchJob = z.object({ reason: z.string() });
export type DispatchJob = z.infer<typeof dispatchJob>;

/** An outbound message to hand to its channel adapter. */
export const deliverJob = z.object({
  outboxId: z.number().int().positive(),
  conversationId: z.string().uuid(),
  messageId: z.number().int().positive(),
});
export type DeliverJob = z.infer<typeof deliverJob>;

const iso = z.string().datetime({ offset: true });

/**
 * Timers: delayed jobs on the `timers` queue. Each names the state it was
 * set for (an offer's conversation version, the time the conversation was
 * queued, resolved or last written in); when it fires on changed state it
 * does nothing, so a stale timer is harmless and a re-enqueue is deduplicated
 * by its job id.
 */
export const timerJob = z.discriminatedUnion('kind', [
  /** An offer not accepted in time goes to the next agent. */
  z.object({ kind: z.literal('offer-timeout'), conversationId: z.string().uuid(), agentId: z.string().uuid(), version: z.number().int() }),
  /** A conversation not accepted within its queue's answer target escalates. */
  z.object({ kind: z.literal('escalate'), conversationId: z.string().uuid(), queuedAt: iso }),
  /** An active conversation without messages for its queue's inactivity timeout is closed. */
  z.object({ kind: z.literal('inactivity'), conversationId: z.string().uuid(), dueAt: iso }),
  /** The callback window after a resolved emergency conversation ends. */
  z.object({ kind: z.literal('callback-window'), conversationId: z.string().uuid(), resolvedAt: iso }),
  /** E-mails one supervisor about an escalation. */
  z.object({ kind: z.literal('escalation-email'), conversationId: z.string().uuid(), agentId: z.string().uuid(), escalatedAt: iso }),
  /** E-mails the emergency contacts of a conversation's queue and of the agent who flagged it (once: a conversation is flagged once). */
  z.object({ kind: z.literal('emergency-contacts-email'), conversationId: z.string().uuid(), agentId: z.string().uuid() }),
]);
export type TimerJob = z.infer<typeof timerJob>;

/** Timers retry like routing: each one is part of an emergency's handling. */
export const TIMER_POLICY: JobPolicy = { attempts: 10, backoff: { type: 'exponential', delay: 200 } };

const ms = (t: string) => new Date(t).getTime();

/** A timer's job id: derived from what it acts on and the state it was set for. */
export function timerJobId(job: TimerJob): string {
  switch (job.kind) {
    case 'offer-timeout':
      return `offer-timeout-${job.conversationId}-${job.version}`;
    case 'escalate':
      return `escalate-${job.conversationId}-${ms(job.queuedAt)}`;
    case 'inactivity':
      return `inactivity-${job.conversationId}-${ms(job.dueAt)}`;
    case 'callback-window':
      return `callback-window-${job.conversationId}-${ms(job.resolvedAt)}`;
    case 'escalation-email':
      return `escalation-email-${job.conversationId}-${job.agentId}-${ms(job.escalatedAt)}`;
    case 'emergency-contacts-email':
      return `emergency-contacts-email-${job.conversationId}`;
  }
}

export interface JobPolicy {
  attempts: number;
  backoff: { type: 'exponential' | 'fixed'; delay: number };
}

/** Routing is retried quickly: a conversation waiting on it is an emergency. */
export const ROUTING_POLICY: JobPolicy = { attempts: 10, backoff: { type: 'exponential', delay: 200 } };

/**
 * Job ids carry the conversation's UUID as well as the row id: a restored or
 * recreated database restarts its sequences, and a bare row id would collide
 * with a job still kept in the queue, which BullMQ would drop as a duplicate.
 */
export const jobIds = {
  route: (conversationId: string, outboxId: number) => `route-${conversationId}-${outboxId}`,
  deliver: (conversationId: string, messageId: number) => `deliver-${conversationId}-${messageId}`,
} as const;
