/**
 * Typed enqueue helpers over the job catalog.
 */
import { randomUUID } from 'node:crypto';
import type { JobQueue, QueueBackend } from './backend.ts';
import {
  deliverJob,
  linkQueueName,
  dispatchJob,
  jobIds,
  QUEUE_NAMES,
  routeJob,
  ROUTING_POLICY,
  type DeliverJob,
  type DispatchJob,
  type RouteJob,
  timerJob,
  timerJobId,
  TIMER_POLICY,
  type TimerJob,
} from './catalog.ts';

export interface Enqueuer {
  route(job: RouteJob): Promise<void>;
  /** The sweeper's re-enqueue: runs the job again even if an earlier one with its id failed for good. */
  reviveRoute(job: RouteJob): Promise<void>;
  reviveDeliver(job: DeliverJob): Promise<void>;
  dispatch(job: DispatchJob): Promise<void>;
  deliver(job: DeliverJob): Promise<void>;
  /** Forwards a delivery to the queue of the link that must send it. */
  deliverViaLink(linkId: string, job: DeliverJob): Promise<void>;
  /**
   * Sets a timer: a delayed job that fires after `delayMs` (at once if not
   * positive). Setting the same timer again (same job id) is a no-op.
   */
  timer(job: TimerJob, delayMs: number): Promise<void>;
  routingDepth(): Promise<number>;
  close(): Promise<void>;
}

export interface OutboundPolicy {
  attempts: number;
  backoffMs: number;
}

/**
 * Waits at most `ms` for an enqueue made after a commit. With Redis down a
 * BullMQ add waits for the connection indefinitely; the work is already safe
 * in the outbox, which the sweeper re-enqueues, so callers acknowledge the
 * channel anyway. Resolves with the error (or a timeout error), never rejects.
 */
export async function enqueueAfterCommit(enqueue: Promise<void>, ms = 1000): Promise<Error | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<Error>((resolve) => {
    timer = setTimeout(() => resolve(new Error(`the queue did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([enqueue.then(() => undefined, (err: unknown) => (err instanceof Error ? err : new Error(String(err)))), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

const KEEP = { removeOnComplete: { count: 1000 }, removeOnFail: { count: 5000 } } as const;

/** Creates the producers for every queue of the catalog. */
export function createEnqueuer(backend: QueueBackend, outbound: OutboundPolicy): Enqueuer {
  const routing: JobQueue<RouteJob | DispatchJob> = backend.queue(QUEUE_NAMES.routing);
  const delivery: JobQueue<DeliverJob> = backend.queue(QUEUE_NAMES.outbound);
  const timers: JobQueue<TimerJob> = backend.queue(QUEUE_NAMES.timers);
  const linkQueues = new Map<string, JobQueue<DeliverJob>>();
  const deliveryPolicy = { attempts: outbound.attempts, backoff: { type: 'exponential' as const, delay: outbound.backoffMs } };
  return {
    async route(job) {
      await routing.add('route', routeJob.parse(job), { ...ROUTING_POLICY, ...KEEP, jobId: jobIds.route(job.conversationId, job.outboxId) });
    },
    async reviveRoute(job) {
      await routing.addOrRevive('route', routeJob.parse(job), { ...ROUTING_POLICY, ...KEEP, jobId: jobIds.route(job.conversationId, job.outboxId) });
    },
    async reviveDeliver(job) {
      await delivery.addOrRevive('deliver', deliverJob.parse(job), { ...deliveryPolicy, ...KEEP, jobId: jobIds.deliver(job.conversationId, job.messageId) });
    },
    async dispatch(job) {
      await routing.add('dispatch', dispatchJob.parse(job), { ...ROUTING_POLICY, ...KEEP, jobId: `dispatch-${randomUUID()}` });
    },
    async deliver(job) {
      await delivery.add('deliver', deliverJob.parse(job), { ...deliveryPolicy, ...KEEP, jobId: jobIds.deliver(job.conversationId, job.messageId) });
    },
    async deliverViaLink(linkId, job) {
      let queue = linkQueues.get(linkId);
      if (!queue) {
        queue = backend.queue<DeliverJob>(linkQueueName(linkId));
        linkQueues.set(linkId, queue);
      }
      // Forwarding runs again when the sweeper revives a delivery: revive the link's job too.
      await queue.addOrRevive('deliver', deliverJob.parse(job), { ...deliveryPolicy, ...KEEP, jobId: jobIds.deliver(job.conversationId, job.messageId) });
    },
    async timer(job, delayMs) {
      const data = timerJob.parse(job);
      await timers.add(data.kind, data, { ...TIMER_POLICY, ...KEEP, jobId: timerJobId(data), delay: Math.max(0, Math.round(delayMs)) });
    },
    routingDepth: () => routing.depth(),
    async close() {
      await Promise.allSettled([routing.close(), delivery.close(), timers.close(), ...[...linkQueues.values()].map((q) => q.close())]);
    },
  };
}
