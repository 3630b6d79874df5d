/**
 * The worker role vacuums the tables every message churns once they hold
 * VACUUM_DEAD_ROWS dead rows, whether or not PostgreSQL's autovacuum runs.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { migrateStore, openStore } from '../../src/store/db.ts';
import { startEmbeddedDatabase } from '../../src/store/embedded.ts';
import { vacuumDeadRows } from '../../src/store/vacuum.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { waitFor } from '../support/wait.ts';

interface TableStats {
  dead: number;
  vacuums: number;
}

describe('vacuuming the churning tables', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ VACUUM_DEAD_ROWS: '50' });
  });
  afterAll(async () => {
    await gw?.destroy();
  });

  const outboxStats = async (): Promise<TableStats> => {
    const [row] = await gw.store.sql<TableStats[]>`
      select n_dead_tup::int as dead, vacuum_count::int as vacuums from pg_stat_user_tables where relname = 'outbox'`;
    return row!;
  };

  /** Inserts outbox rows and acknowledges them: one dead row each, as a routed message leaves. */
  async function churn(rows: number): Promise<TableStats> {
    const conn = await gw.store.sql.reserve();
    try {
      await conn`insert into outbox (kind, conversation_id) select 'route', ${randomUUID()}::uuid from generate_series(1, ${rows})`;
      await conn`update outbox set processed_at = now() where processed_at is null`;
      // Statistics reach other sessions when a backend flushes them; make this one flush now.
      await conn`select pg_stat_force_next_flush()`;
    } finally {
      conn.release();
    }
    return outboxStats();
  }

  it('the sweeper vacuums the outbox once it holds VACUUM_DEAD_ROWS dead rows', async () => {
    expect((await churn(120)).vacuums).toBe(0);
    const stats = await waitFor('a vacuum of the outbox by the sweeper', async () => {
      const s = await outboxStats();
      return s.vacuums > 0 ? s : undefined;
    });
    expect(stats.dead).toBeLessThan(50);
  });

  it('leaves a table alone below the threshold', async () => {
    await gw.sweeper!.stop();
    await churn(30);
    const before = await waitFor('the 30 dead rows in the statistics', async () => {
      const s = await outboxStats();
      return s.dead >= 30 ? s : undefined;
    });
    expect(await vacuumDeadRows(gw.store.db, 1_000)).toEqual([]);
    expect((await outboxStats()).vacuums).toBe(before.vacuums);
    expect(await vacuumDeadRows(gw.store.db, 30)).toEqual(['outbox']);
    const after = await outboxStats();
    expect(after.vacuums).toBe(before.vacuums + 1);
    expect(after.dead).toBe(0);
  });
});

describe('vacuuming on the embedded PGlite', () => {
  it('works there too (embedded mode runs the same sweeper; PGlite has no autovacuum process)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lifeline-vacuum-'));
    const log = createLogger('silent');
    const embedded = await startEmbeddedDatabase(path.join(dir, 'store'), { log, maxConnections: 2 });
    const store = openStore({ url: embedded.url, max: 1, log });
    try {
      await migrateStore(store, { lock: false });
      await store.sql`insert into outbox (kind, conversation_id) values ('route', ${randomUUID()})`;
      await store.sql`update outbox set processed_at = now()`;
      expect(await vacuumDeadRows(store.db, 0)).toEqual(['outbox', 'conversations']);
    } finally {
      await store.close();
      await embedded.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
