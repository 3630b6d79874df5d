/**
 * `npm run db:migrate`: applies migrations/ to DATABASE_URL (or, with no
 * DATABASE_URL, to the embedded store in DATA_DIR).
 */
import path from 'node:path';
import { ConfigError, loadConfig } from '../config.ts';
import { createLogger } from '../log.ts';
import { migrateStore, openStore } from './db.ts';
import { startEmbeddedDatabase } from './embedded.ts';

try {
  const config = loadConfig(process.env);
  const log = createLogger(config.logLevel);
  const embedded = config.mode === 'embedded' ? await startEmbeddedDatabase(path.join(config.dataDir, 'store'), { log, maxConnections: 2 }) : undefined;
  const store = openStore({ url: embedded?.url ?? (config.databaseUrl as string), max: embedded ? 1 : 2, log });
  await migrateStore(store, { lock: !embedded });
  await store.close();
  await embedded?.close();
  log.info('migrations applied');
} catch (err) {
  process.stderr.write(`lifeline: ${err instanceof ConfigError ? err.message : String((err as Error)?.stack ?? err)}\n`);
  process.exit(err instanceof ConfigError ? 2 : 1);
}
