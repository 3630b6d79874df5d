/**
 * The sweeper's re-enqueue must run a job again even when an earlier job with
 * the same id failed for good: BullMQ ignores a plain add with an existing id.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { createRedisQueueBackend } from '../../src/queue/backend.ts';
import { REDIS_URL } from '../support/services.ts';
import { waitFor } from '../support/wait.ts';

describe('addOrRevive on real BullMQ', () => {
  const backend = createRedisQueueBackend(REDIS_URL, `rv${randomBytes(4).toString('hex')}`);
  afterAll(async () => {
    await backend.close();
  });

  it('revives a failed job, leaves a pending one alone, and re-adds a completed one', async () => {
    const runs: string[] = [];
    let failNext = true;
    backend.worker<{ n: number }>(
      'routing',
      async (job) => {
        runs.push(String(job.id));
        if (failNext) {
          failNext = false;
          throw new Error('database failed over');
        }
      },
      { concurrency: 1, lockMs: 5000, log: createLogger('silent') },
    );
    const queue = backend.queue<{ n: number }>('routing');
    const options = { jobId: 'route-x-1', attempts: 1 };

    expect(await queue.addOrRevive('route', { n: 1 }, options)).toBe('added');
    await waitFor('the first run to fail', () => runs.length === 1);
    await queue.add('route', { n: 1 }, options); // what a plain re-add does: nothing
    await waitFor('the job to be marked failed', async () => (await queue.addOrRevive('route', { n: 1 }, options)) === 'revived');
    await waitFor('the revived run', () => runs.length === 2);
    expect(runs).toEqual(['route-x-1', 'route-x-1']);
    await waitFor('completion', async () => (await queue.addOrRevive('route', { n: 1 }, options)) === 'revived');
    await waitFor('the re-added run', () => runs.length === 3);
  });
});
