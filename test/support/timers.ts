/**
 * Helpers for timer tests: short queue durations, a restart on the same
 * database and BullMQ prefix, and a timer job's state in Redis.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { REDIS_URL } from './services.ts';
import { startTestGateway, type TestGateway } from './gateway.ts';

/** Sets columns of the default queue (snake_case SQL assignments are not accepted: values only). */
export async function setDefaultQueue(gw: TestGateway, values: Record<string, string | number | null | object>): Promise<void> {
  for (const [column, value] of Object.entries(values)) {
    const v = value !== null && typeof value === 'object' ? JSON.stringify(value) : value;
    await gw.store.sql.unsafe(`update queues set "${column}" = $1 where is_default`, [v as string]);
  }
}

/** Stops a gateway (keeping its database and queues) and starts another on the same database and BullMQ prefix. */
export async function restart(gw: TestGateway, env: Record<string, string> = {}): Promise<TestGateway> {
  await gw.stop();
  return startTestGateway({ QUEUE_PREFIX: gw.config.queuePrefix, ...env }, { database: gw.database });
}

/** The state of a job in a gateway's queue ('delayed', 'completed', ... or 'unknown'). */
export async function jobState(gw: TestGateway, queue: string, jobId: string): Promise<string> {
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const q = new Queue(queue, { connection, prefix: gw.config.queuePrefix });
  try {
    return await q.getJobState(jobId);
  } finally {
    await q.close();
    connection.disconnect();
  }
}
