/**
 * A queue's timers and texts, as the workers use them: the conversation's
 * queue, or the default queue while it has none.
 */
import { eq, sql } from 'drizzle-orm';
import type { DbOrTx } from './db.ts';
import { queues } from './schema.ts';

export type QueueSettings = typeof queues.$inferSelect;

/** The settings of `queueId`, or of the default queue when null or gone. */
export async function getQueueSettings(db: DbOrTx, queueId: string | null): Promise<QueueSettings> {
  const rows = await db
    .select()
    .from(queues)
    .where(queueId ? sql`${queues.id} = ${queueId} or ${queues.isDefault}` : eq(queues.isDefault, true))
    .orderBy(sql`${queues.isDefault} asc`)
    .limit(1);
  const row = rows[0];
  if (!row) throw new Error('no default queue: the store was not set up');
  return row;
}

export const secondsToMs = (s: number) => s * 1000;
export const minutesToMs = (m: number) => m * 60_000;
