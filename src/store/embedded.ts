/**
 * Embedded mode: no PostgreSQL or Redis installed. Two PGlite databases live
 * in the data directory, one for the conversation store and one for BullMQ's
 * PostgreSQL backend, each served on a loopback socket. They are separate
 * because PGlite has one session: BullMQ's statements must never land inside
 * a store transaction.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type { Logger } from '../log.ts';

export interface EmbeddedDatabase {
  /** A postgres:// URL reaching the database over loopback. */
  readonly url: string;
  close(): Promise<void>;
}

/** Opens (creating on first use) a PGlite database in `dir` and serves it on 127.0.0.1. */
export async function startEmbeddedDatabase(
  dir: string,
  options: { log: Logger; maxConnections: number; init?: string },
): Promise<EmbeddedDatabase> {
  await mkdir(path.dirname(dir), { recursive: true });
  const started = Date.now();
  const db = await PGlite.create(dir);
  if (options.init) await db.exec(options.init);
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: options.maxConnections });
  await server.start();
  const url = `postgres://postgres@${server.getServerConn()}/postgres`;
  options.log.info({ dir, ms: Date.now() - started }, 'embedded database ready');
  return {
    url,
    async close() {
      await server.stop();
      await db.close();
    },
  };
}
