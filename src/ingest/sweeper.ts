/**
 * Re-enqueues outbox rows no worker acknowledged (a crash between commit and
 * enqueue, a flushed Redis), nudges the dispatcher so a waiting
 * conversation never depends on a single lost trigger, and vacuums the
 * tables every message churns (src/store/vacuum.ts).
 */
import type { Logger } from '../log.ts';
import type { Enqueuer } from '../queue/enqueue.ts';
import type { Db } from '../store/db.ts';
import { claimStaleOutbox, pruneOutbox } from '../store/outbox.ts';
import { countWaiting } from '../store/assignments.ts';
import { vacuumDeadRows } from '../store/vacuum.ts';

export interface SweeperDeps {
  db: Db;
  enqueue: Enqueuer;
  log: Logger;
  intervalMs: number;
  staleMs: number;
  /** Dead rows in a churning table that make a pass vacuum it; 0: never. */
  vacuumDeadRows: number;
}

export interface Sweeper {
  /** One pass; returns how many rows were re-enqueued. */
  sweep(): Promise<number>;
  stop(): Promise<void>;
}

/** Starts the periodic sweep; each pass is awaited before the next is scheduled. */
export function startSweeper(deps: SweeperDeps): Sweeper {
  const log = deps.log.child({ component: 'sweeper' });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  let passes = 0;

  async function sweep(): Promise<number> {
    const rows = await claimStaleOutbox(deps.db, deps.staleMs);
    for (const row of rows) {
      if (row.kind === 'route') {
        await deps.enqueue.reviveRoute({ outboxId: row.id, conversationId: row.conversationId, messageId: row.messageId });
      } else if (row.messageId !== null) {
        await deps.enqueue.reviveDeliver({ outboxId: row.id, conversationId: row.conversationId, messageId: row.messageId });
      }
    }
    if (rows.length > 0) log.warn({ count: rows.length, ids: rows.map((r) => r.id) }, 're-enqueued unacknowledged outbox rows');
    if ((await countWaiting(deps.db)) > 0) await deps.enqueue.dispatch({ reason: 'sweep' });
    if (++passes % 1000 === 0) await pruneOutbox(deps.db);
    if (deps.vacuumDeadRows > 0) {
      // Apart from the re-enqueueing above: a failed vacuum is logged, never holds back a revived job.
      await vacuumDeadRows(deps.db, deps.vacuumDeadRows).then(
        (tables) => tables.length > 0 && log.debug({ tables }, 'vacuumed'),
        (err: unknown) => log.warn({ err }, 'vacuum failed'),
      );
    }
    return rows.length;
  }

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = sweep()
        .catch((err: unknown) => log.error({ err }, 'sweep failed'))
        .finally(schedule);
    }, deps.intervalMs);
    timer.unref();
  };
  schedule();

  return {
    sweep,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
