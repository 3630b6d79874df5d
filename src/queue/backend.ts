/**
 * One queue interface over two BullMQ backends: Redis (service mode) and
 * BullMQ's PostgreSQL backend on an embedded PGlite (embedded mode).
 */
import {
  createPostgresBackend,
  Queue,
  runMigrations,
  UnrecoverableError,
  withBackend,
  Worker,
  type Job,
  type JobsOptions,
} from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Logger } from '../log.ts';
import type { QueueName } from './catalog.ts';

export { UnrecoverableError };
export type { Job };

export interface JobQueue<T> {
  add(name: string, data: T, options?: JobsOptions): Promise<void>;
  /**
   * Adds a job unless one with its id is still waiting or running; a job
   * with that id that failed for good or completed is run again. (A plain
   * add with an existing id is silently ignored by BullMQ.)
   */
  addOrRevive(name: string, data: T, options: JobsOptions & { jobId: string }): Promise<'added' | 'revived' | 'pending'>;
  /** Jobs waiting, active or delayed (for readiness and metrics). */
  depth(): Promise<number>;
  close(): Promise<void>;
}

export interface JobWorker {
  /** Waits for the jobs in flight; `force` stops at once (their locks expire and they run again elsewhere). */
  close(force?: boolean): Promise<void>;
}

export interface WorkerOptions {
  concurrency: number;
  lockMs: number;
  log: Logger;
}

export interface QueueBackend {
  readonly kind: 'redis' | 'postgres';
  queue<T>(name: QueueName): JobQueue<T>;
  worker<T>(name: QueueName, processor: (job: Job<T>) => Promise<unknown>, options: WorkerOptions): JobWorker;
  ping(): Promise<void>;
  close(): Promise<void>;
}

type AnyQueueCtor = new (name: string, opts: Record<string, unknown>) => Queue;
type AnyWorkerCtor = new (name: string, processor: (job: Job) => Promise<unknown>, opts: Record<string, unknown>) => Worker;

function makeBackend(
  kind: QueueBackend['kind'],
  QueueCtor: AnyQueueCtor,
  WorkerCtor: AnyWorkerCtor,
  base: Record<string, unknown>,
  ping: () => Promise<void>,
  closeConnection: () => Promise<void>,
): QueueBackend {
  const open: Array<{ close(): Promise<void> }> = [];
  return {
    kind,
    queue<T>(name: QueueName): JobQueue<T> {
      const q = new QueueCtor(name, { ...base });
      open.push(q);
      return {
        async add(jobName, data, options) {
          await q.add(jobName, data, options);
        },
        async addOrRevive(jobName, data, options) {
          const state = await q.getJobState(options.jobId);
          if (state === 'unknown') {
            await q.add(jobName, data, options);
            return 'added';
          }
          if (state !== 'failed' && state !== 'completed') return 'pending';
          const job = await q.getJob(options.jobId);
          if (state === 'failed' && job) {
            await (job as Job).retry('failed');
            return 'revived';
          }
          await (job as Job | undefined)?.remove();
          await q.add(jobName, data, options);
          return 'revived';
        },
        async depth() {
          const counts = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
          return Object.values(counts).reduce((a, b) => a + b, 0);
        },
        close: () => q.close(),
      };
    },
    worker<T>(name: QueueName, processor: (job: Job<T>) => Promise<unknown>, options: WorkerOptions): JobWorker {
      const w = new WorkerCtor(name, processor as (job: Job) => Promise<unknown>, {
        ...base,
        concurrency: options.concurrency,
        lockDuration: options.lockMs,
        stalledInterval: options.lockMs,
        maxStalledCount: 5,
      });
      w.on('error', (err) => options.log.error({ err, queue: name }, 'worker error'));
      w.on('failed', (job, err) =>
        options.log.warn({ err, queue: name, jobId: job?.id, attempts: job?.attemptsMade }, 'job failed'),
      );
      open.push(w);
      return { close: (force?: boolean) => w.close(force) };
    },
    ping,
    async close() {
      await Promise.allSettled(open.splice(0).map((c) => c.close()));
      await closeConnection();
    },
  };
}

/** BullMQ on Redis; `prefix` isolates deployments (and tests) sharing one Redis. */
export function createRedisQueueBackend(url: string, prefix: string): QueueBackend {
  const connection = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false });
  return makeBackend(
    'redis',
    Queue as unknown as AnyQueueCtor,
    Worker as unknown as AnyWorkerCtor,
    { connection, prefix },
    async () => {
      await connection.ping();
    },
    async () => {
      connection.disconnect();
    },
  );
}

/** BullMQ's PostgreSQL backend; migrates its own schema before first use. */
export async function createPostgresQueueBackend(url: string): Promise<QueueBackend> {
  const pool = new pg.Pool({ connectionString: url, max: 6 });
  const client = await pool.connect();
  try {
    await runMigrations(client);
  } finally {
    client.release();
  }
  const classes = withBackend(createPostgresBackend);
  return makeBackend(
    'postgres',
    classes.Queue as unknown as AnyQueueCtor,
    classes.Worker as unknown as AnyWorkerCtor,
    { connection: pool },
    async () => {
      await pool.query('select 1');
    },
    () => pool.end(),
  );
}
