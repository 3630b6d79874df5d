/**
 * The retention sweeper: a timer in the worker role that purges the content
 * of conversations past their retention (src/store/retention.ts). Every
 * process may run it: a purge locks its batch with SKIP LOCKED and is
 * idempotent, so two sweepers never fight and a crash loses nothing.
 */
import type { Logger } from '../src/log.ts';
import type { Db } from '../src/store/db.ts';
import { purgeExpiredContent, type PurgeResult, type RetentionPolicy } from '../src/store/retention.ts';

export interface RetentionSweeper {
  /** Runs one pass now (also what the timer does). */
  runOnce(): Promise<PurgeResult>;
  stop(): Promise<void>;
}

/** Starts sweeping at once and then every `intervalMs`. */
export function startRetentionSweeper(deps: { db: Db; log: Logger; policy: RetentionPolicy; intervalMs: number }): RetentionSweeper {
  const log = deps.log.child({ component: 'retention' });
  let running: Promise<PurgeResult> | undefined;
  let stopped = false;
  const runOnce = () => {
    running ??= purgeExpiredContent(deps.db, deps.policy)
      .then((result) => {
        if (result.conversations > 0) log.info({ ...result }, 'content purged by the retention policy');
        return result;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const tick = () => {
    if (stopped) return;
    runOnce().catch((err: unknown) => log.error({ err }, 'retention pass failed'));
  };
  const timer = setInterval(tick, deps.intervalMs);
  timer.unref();
  tick();
  return {
    runOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
