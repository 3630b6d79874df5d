/**
 * Routing rules, cached briefly: they change rarely and are read per message.
 */
import { asc, eq } from 'drizzle-orm';
import type { PriorityRule } from '../routing/priority.ts';
import type { DbOrTx } from './db.ts';
import { queues, routingRules } from './schema.ts';

export interface RuleCache {
  get(): Promise<{ rules: PriorityRule[]; defaultQueueId: string | null }>;
  invalidate(): void;
}

/** Loads enabled rules and the default queue, keeping them for `ttlMs`. */
export function createRuleCache(db: DbOrTx, ttlMs = 5000): RuleCache {
  let cached: { at: number; value: { rules: PriorityRule[]; defaultQueueId: string | null } } | undefined;
  return {
    async get() {
      if (cached && Date.now() - cached.at < ttlMs) return cached.value;
      const rows = await db.select().from(routingRules).where(eq(routingRules.enabled, true)).orderBy(asc(routingRules.position));
      const [def] = await db.select({ id: queues.id }).from(queues).where(eq(queues.isDefault, true));
      const value = {
        rules: rows.map((r) => ({
          id: r.id,
          name: r.name,
          kind: r.kind,
          terms: r.terms,
          windowSeconds: r.windowSeconds,
          priority: r.priority,
          queueId: r.queueId,
        })),
        defaultQueueId: def?.id ?? null,
      };
      cached = { at: Date.now(), value };
      return value;
    },
    invalidate() {
      cached = undefined;
    },
  };
}
