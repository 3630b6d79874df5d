/**
 * Keeps the tables every message updates free of dead row versions.
 *
 * Each message leaves one dead outbox row behind (its acknowledgement is an
 * update that cannot be HOT: processed_at is in the pending-rows indexes)
 * and dead versions of its conversation row. Until they are vacuumed, the
 * outbox's heap and indexes fill with them and every ingest, route read and
 * acknowledgement costs more: measured at 2,000 messages/s, PostgreSQL's CPU
 * per message climbed from 0.2 ms to 1.4 ms over 100,000 messages with
 * nothing vacuuming. Autovacuum may be off (as on test machines), or visit
 * a busy database only once a minute and a large table only at 20 % dead
 * rows; so the worker role vacuums these tables itself once they hold
 * `minDeadRows` dead rows. `skip_locked`: a table another process (or
 * autovacuum) is vacuuming is left to it.
 */
import { sql } from 'drizzle-orm';
import type { Db } from './db.ts';

/** The tables vacuumed; written into the VACUUM statement, so a fixed list. */
export const CHURNING_TABLES = ['outbox', 'conversations'] as const;
export type ChurningTable = (typeof CHURNING_TABLES)[number];

/** Vacuums each churning table holding at least `minDeadRows` dead rows; returns those vacuumed. */
export async function vacuumDeadRows(db: Db, minDeadRows: number): Promise<ChurningTable[]> {
  const rows = await db.execute<{ relname: string }>(sql`
    select relname from pg_stat_user_tables
     where schemaname = current_schema() and relname in ${CHURNING_TABLES} and n_dead_tup >= ${minDeadRows}`);
  const due = CHURNING_TABLES.filter((table) => rows.some((r) => r.relname === table));
  for (const table of due) await db.execute(sql.raw(`vacuum (skip_locked) ${table}`));
  return due;
}

/** PostgreSQL's autovacuum setting: off leaves every other table's dead rows in place. */
export async function autovacuumEnabled(db: Db): Promise<boolean> {
  const [row] = await db.execute<{ autovacuum: string }>(sql`show autovacuum`);
  return row?.autovacuum === 'on';
}
