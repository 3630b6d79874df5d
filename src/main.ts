/**
 * `npm start`: the whole gateway in one process, or one role of it
 * (`--role api|worker`). Configuration comes from the environment.
 */
import { createAdapters } from '../adapters/index.ts';
import { ConfigError, loadConfig } from './config.ts';
import { startGateway } from './gateway.ts';
import { createLogger } from './log.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env, process.argv.slice(2));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`lifeline: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  if (config.mode === 'embedded') {
    log.info({ dataDir: config.dataDir }, 'no DATABASE_URL/REDIS_URL: running embedded (PGlite + BullMQ on PostgreSQL)');
  }
  const gateway = await startGateway(config, createAdapters(), log);
  const banner = [
    '',
    `  Lifeline is running (${config.mode} mode).`,
    `  Agent console:  ${gateway.url}/console`,
    `  Citizen chat:   ${gateway.url}/chat`,
    `  Dashboard:      ${gateway.url}/dashboard`,
    `  Administration: ${gateway.url}/admin`,
  ];
  if (gateway.generatedAdminPassword) {
    banner.push(
      `  First start: administrator "${config.adminUsername}" created with password`,
      `      ${gateway.generatedAdminPassword}`,
      '  It is shown only this once. Sign in to /admin with it and set your own',
      '  (or set ADMIN_PASSWORD before the first start).',
    );
  }
  process.stdout.write(`${banner.join('\n')}\n\n`);

  let shuttingDown = false;
  const shutdown = (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 15000);
    force.unref();
    gateway.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
}

main().catch((err: unknown) => {
  process.stderr.write(`lifeline: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
