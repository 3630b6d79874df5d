/**
 * Canned replies: pre-set answers and questions in plain language, per
 * language, in the order administrators give them.
 */
import { asc, eq } from 'drizzle-orm';
import type { DbOrTx } from './db.ts';
import { cannedReplies } from './schema.ts';

export type CannedReply = typeof cannedReplies.$inferSelect;
export type NewCannedReply = Pick<CannedReply, 'language' | 'title' | 'body' | 'position'>;

/** Canned replies, one language or all, by language then position then title. */
export async function listCannedReplies(db: DbOrTx, language?: string): Promise<CannedReply[]> {
  return db
    .select()
    .from(cannedReplies)
    .where(language ? eq(cannedReplies.language, language) : undefined)
    .orderBy(asc(cannedReplies.language), asc(cannedReplies.position), asc(cannedReplies.title));
}

export async function insertCannedReply(db: DbOrTx, input: NewCannedReply): Promise<CannedReply> {
  const [row] = await db.insert(cannedReplies).values(input).returning();
  if (!row) throw new Error('canned reply insert returned nothing');
  return row;
}

/** Changes a canned reply; undefined when there is none with this id. */
export async function updateCannedReply(db: DbOrTx, id: string, patch: Partial<NewCannedReply>): Promise<CannedReply | undefined> {
  if (Object.keys(patch).length === 0) {
    const [row] = await db.select().from(cannedReplies).where(eq(cannedReplies.id, id));
    return row;
  }
  const [row] = await db.update(cannedReplies).set(patch).where(eq(cannedReplies.id, id)).returning();
  return row;
}

/** Deletes a canned reply; false when there was none. */
export async function deleteCannedReply(db: DbOrTx, id: string): Promise<boolean> {
  const rows = await db.delete(cannedReplies).where(eq(cannedReplies.id, id)).returning({ id: cannedReplies.id });
  return rows.length > 0;
}
