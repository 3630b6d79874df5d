/**
 * Opens the conversation store: PostgreSQL through postgres.js, or (embedded
 * mode) PGlite in the data directory served on a loopback socket so the same
 * driver and SQL serve both.
 */
import { fileURLToPath } from 'node:url';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import type { Logger } from '../log.ts';
import * as schema from './schema.ts';

export type Db = PostgresJsDatabase<typeof schema>;
/** A transaction handle; repositories accept either. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type DbOrTx = Db | Tx;

export interface Store {
  readonly db: Db;
  readonly sql: postgres.Sql;
  close(): Promise<void>;
}

const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));
const MIGRATION_LOCK = 7_351_001;

export interface OpenStoreOptions {
  url: string;
  /** Connections in the pool; 1 for an embedded PGlite, which has one session. */
  max?: number;
  log: Logger;
}

/** Connects to PostgreSQL; nothing is queried until first use. */
export function openStore(options: OpenStoreOptions): Store {
  const log = options.log.child({ component: 'store' });
  const sql = postgres(options.url, {
    max: options.max ?? 10,
    onnotice: () => undefined,
    connection: { application_name: 'lifeline' },
  });
  const db = drizzle(sql, { schema, logger: false });
  return {
    db,
    sql,
    async close() {
      await sql.end({ timeout: 5 });
      log.debug('store closed');
    },
  };
}

/**
 * Applies migrations/ under an advisory lock, so several processes starting
 * together migrate once.
 */
export async function migrateStore(store: Store, options: { lock: boolean }): Promise<void> {
  if (!options.lock) {
    await migrate(store.db, { migrationsFolder: MIGRATIONS_DIR });
    return;
  }
  const conn = await store.sql.reserve();
  try {
    await conn`select pg_advisory_lock(${MIGRATION_LOCK})`;
    await migrate(store.db, { migrationsFolder: MIGRATIONS_DIR });
  } finally {
    await conn`select pg_advisory_unlock(${MIGRATION_LOCK})`;
    conn.release();
  }
}
