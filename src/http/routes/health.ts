import { sql } from 'drizzle-orm';
import { Router } from 'express';
import type { Metrics } from '../../metrics.ts';
import type { Enqueuer } from '../../queue/enqueue.ts';
import type { QueueBackend } from '../../queue/backend.ts';
import type { Db } from '../../store/db.ts';
import { listLinks, toLinkView } from '../../store/links.ts';
import { countUnansweredByQueue } from '../../store/report-views.ts';

const withDeadline = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} did not answer in ${ms} ms`)), ms).unref())]);

/** `/healthz` (the process is up), `/readyz` (store and queue reachable), `/metrics`. */
export function healthRoutes(deps: { db: Db; queues: QueueBackend; enqueue: Enqueuer; metrics: Metrics }): Router {
  const r = Router();
  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  r.get('/readyz', async (_req, res) => {
    const checks = await Promise.allSettled([
      withDeadline(deps.db.execute(sql`select 1`), 2000, 'database'),
      withDeadline(deps.queues.ping(), 2000, 'queue'),
    ]);
    const [database, queue] = checks.map((c) => (c.status === 'fulfilled' ? 'ok' : String((c.reason as Error)?.message ?? c.reason)));
    const ready = database === 'ok' && queue === 'ok';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', database, queue });
  });
  r.get('/metrics', async (_req, res) => {
    deps.metrics.queueDepth.set({ queue: 'routing' }, await deps.enqueue.routingDepth().catch(() => -1));
    // Waiting conversations per queue, from the store: the same for whichever process is scraped.
    const waiting = await countUnansweredByQueue(deps.db).catch(() => undefined);
    deps.metrics.queueWaiting.reset();
    for (const { queue, waiting: n } of waiting ?? []) deps.metrics.queueWaiting.set({ queue }, n);
    // Link state lives with whichever process holds each link's lease: read it from the store.
    const links = await listLinks(deps.db).catch(() => []);
    deps.metrics.linkUp.reset();
    deps.metrics.linkCounter.reset();
    deps.metrics.linkError.reset();
    deps.metrics.linkLastSync.reset();
    for (const { link, lease } of links) {
      const view = toLinkView(link, lease);
      const status = view.runner?.status as
        | { state?: string; lastError?: string | null; counters?: Record<string, number>; detail?: { lastSync?: unknown } }
        | undefined;
      deps.metrics.linkUp.set({ link: link.name, channel: link.channel }, status?.state === 'up' ? 1 : 0);
      if (status) deps.metrics.linkError.set({ link: link.name }, status.lastError ? 1 : 0);
      const lastSync = typeof status?.detail?.lastSync === 'string' ? Date.parse(status.detail.lastSync) : NaN;
      if (!Number.isNaN(lastSync)) deps.metrics.linkLastSync.set({ link: link.name }, Math.floor(lastSync / 1000));
      for (const [counter, value] of Object.entries(status?.counters ?? {})) {
        if (typeof value === 'number') deps.metrics.linkCounter.set({ link: link.name, counter }, value);
      }
    }
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  return r;
}
