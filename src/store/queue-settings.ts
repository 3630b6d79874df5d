/**
 * A queue's timers and texts, as the workers use them: the conversation's
 * queue, or the default queue while it has none.
 */
import { asc, eq, sql } from 'drizzle-orm';
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

/** What an administrator may set on a queue (the default flag and the id are not among them). */
export type QueueInput = Partial<Omit<QueueSettings, 'id' | 'isDefault' | 'createdAt'>>;

/** Every queue, by name. */
export async function listQueues(db: DbOrTx): Promise<QueueSettings[]> {
  return db.select().from(queues).orderBy(asc(queues.name));
}

/** Inserts a queue; settings not given keep the store's defaults. */
export async function insertQueue(db: DbOrTx, input: QueueInput & { name: string }): Promise<QueueSettings> {
  const [row] = await db.insert(queues).values(input).returning();
  if (!row) throw new Error('queue insert returned nothing');
  return row;
}

/**
 * Changes a queue's settings; undefined when there is none with this id.
 * Timers already set keep their time; the new durations apply to those set next.
 */
export async function updateQueue(db: DbOrTx, id: string, patch: QueueInput): Promise<QueueSettings | undefined> {
  if (Object.keys(patch).length === 0) {
    const [row] = await db.select().from(queues).where(eq(queues.id, id));
    return row;
  }
  const [row] = await db.update(queues).set(patch).where(eq(queues.id, id)).returning();
  return row;
}
