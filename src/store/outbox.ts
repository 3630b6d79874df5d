/**
 * The transactional outbox: rows committed with the work they stand for,
 * acknowledged by the worker that finished the work.
 */
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { DbOrTx } from './db.ts';
import { outbox, type OutboxRow } from './schema.ts';

/** Marks an outbox row done; true if this call did it. */
export async function acknowledgeOutbox(db: DbOrTx, id: number): Promise<boolean> {
  const rows = await db
    .update(outbox)
    .set({ processedAt: sql`now()` })
    .where(and(eq(outbox.id, id), isNull(outbox.processedAt)))
    .returning({ id: outbox.id });
  return rows.length > 0;
}

/**
 * Claims unacknowledged rows older than `staleMs` that were not re-enqueued
 * within `staleMs` either, stamping them so concurrent sweepers take each once.
 */
export async function claimStaleOutbox(db: DbOrTx, staleMs: number, limit = 500): Promise<OutboxRow[]> {
  const interval = `${staleMs} milliseconds`;
  return db
    .update(outbox)
    .set({ lastEnqueuedAt: sql`now()`, enqueueCount: sql`${outbox.enqueueCount} + 1` })
    .where(
      sql`${outbox.id} in (
        select id from outbox
        where processed_at is null
          and created_at < now() - ${interval}::interval
          and (last_enqueued_at is null or last_enqueued_at < now() - ${interval}::interval)
        order by id
        limit ${limit}
        for update skip locked)`,
    )
    .returning();
}

/** Deletes acknowledged rows older than a day, to keep the table small. */
export async function pruneOutbox(db: DbOrTx): Promise<number> {
  const rows = await db
    .delete(outbox)
    .where(sql`${outbox.processedAt} < now() - interval '1 day'`)
    .returning({ id: outbox.id });
  return rows.length;
}
