/**
 * A gateway cluster of real processes on private PostgreSQL and Redis:
 * API and worker processes sharing one database and one queue prefix, with
 * an SMSC the workers' client-mode link binds to. Everything it starts is
 * stopped and removed by `destroy()`, and killed on process exit if the test
 * dies first.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import type { LinkStatus } from '../../src/channel.ts';
import { ADMIN_PASSWORD, api, login } from '../support/gateway.ts';
import { gatewayProcess, type GatewayProcess } from '../support/gateway-process.ts';
import { startPrivatePostgres, startPrivateRedis, type PrivatePostgres, type PrivateRedis } from '../support/private-services.ts';
import { FakeSmsc } from '../support/smsc.ts';

export interface ClusterOptions {
  apis: number;
  workers: number;
  env?: Record<string, string>;
}

export interface LinkView {
  id: string;
  runner: { holder: string; expiresAt: string; status: LinkStatus } | null;
}

export interface Cluster {
  pg: PrivatePostgres;
  redis: PrivateRedis;
  /** The test's own connection to the gateway's database. */
  sql: postgres.Sql;
  apis: GatewayProcess[];
  workers: GatewayProcess[];
  smsc: FakeSmsc;
  admin: string;
  env: Record<string, string>;
  /** Creates the client-mode SMPP link to the SMSC through the API; resolves with its id once bound. */
  createSmsLink(): Promise<string>;
  link(id: string): Promise<LinkView>;
  /** The worker process running a link now (from its lease holder `host:pid:…`). */
  holderOf(id: string): Promise<GatewayProcess | undefined>;
  /** Log tails of every process, for a failure message. */
  logs(): Promise<string>;
  destroy(): Promise<void>;
}

/** Environment of every process: short leases, locks and sweeps so recovery takes seconds. */
export const FAST_RECOVERY = {
  LOG_LEVEL: 'info',
  LINK_LEASE_MS: '3000',
  JOB_LOCK_MS: '2000',
  OUTBOX_SWEEP_INTERVAL_MS: '300',
  OUTBOX_STALE_MS: '1500',
  OUTBOUND_BACKOFF_MS: '100',
  WORKER_CONCURRENCY: '8',
  // Agents whose process was killed reconnect within seconds; they must not be set offline meanwhile.
  AGENT_DISCONNECT_GRACE_MS: '60000',
} as const;

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lifeline-faults-'));
  // FAULTS_KEEP_LOGS=DIR keeps every process's log there for reading after the run.
  const keepLogs = process.env.FAULTS_KEEP_LOGS;
  const started: { pg?: PrivatePostgres; redis?: PrivateRedis; smsc?: FakeSmsc; sql?: postgres.Sql } = {};
  const processes: GatewayProcess[] = [];
  const destroy = async () => {
    await Promise.allSettled(processes.map((p) => p.stop()));
    await started.smsc?.stop().catch(() => undefined);
    await started.sql?.end({ timeout: 2 }).catch(() => undefined);
    await started.redis?.destroy().catch(() => undefined);
    await started.pg?.destroy().catch(() => undefined);
    if (keepLogs) await cp(dir, keepLogs, { recursive: true }).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    started.pg = await startPrivatePostgres();
    started.redis = await startPrivateRedis();
    const databaseUrl = await started.pg.createDatabase('lifeline');
    started.sql = postgres(databaseUrl, { max: 2, onnotice: () => undefined });
    started.smsc = await FakeSmsc.start({ systemId: 'psap', password: 'secret' });
    const env: Record<string, string> = {
      ...FAST_RECOVERY,
      DATABASE_URL: databaseUrl,
      REDIS_URL: started.redis.url,
      QUEUE_PREFIX: 'faults',
      ADMIN_PASSWORD,
      ...options.env,
    };
    const workers: GatewayProcess[] = [];
    const apis: GatewayProcess[] = [];
    for (let i = 0; i < options.workers; i++) workers.push(await gatewayProcess(`worker-${i + 1}`, 'worker', env, dir));
    for (let i = 0; i < options.apis; i++) apis.push(await gatewayProcess(`api-${i + 1}`, 'api', env, dir));
    processes.push(...workers, ...apis);
    // The first process migrates the database; the others start side by side after it.
    await processes[0]!.start();
    await Promise.all(processes.slice(1).map((p) => p.start()));
    const front = apis[0] ?? workers[0]!;
    const admin = await login(front, 'admin', ADMIN_PASSWORD);
    const smsc = started.smsc;
    const sql = started.sql;

    const link = async (id: string) => {
      const res = await api<{ link: LinkView }>(front, 'GET', `/api/links/${id}`, { token: admin });
      if (res.status !== 200) throw new Error(`GET /api/links/${id}: ${res.status}`);
      return res.body.link;
    };
    const cluster: Cluster = {
      pg: started.pg,
      redis: started.redis,
      sql,
      apis,
      workers,
      smsc,
      admin,
      env,
      async createSmsLink() {
        const binds = smsc.boundCount;
        const res = await api<{ link: { id: string } }>(front, 'POST', '/api/links', {
          token: admin,
          body: {
            channel: 'sms',
            name: 'carrier',
            settings: {
              mode: 'client',
              host: '127.0.0.1',
              port: smsc.port,
              systemId: 'psap',
              sourceAddr: '911',
              enquireLinkSeconds: 1,
              responseTimeoutMs: 1000,
              reconnectMinMs: 50,
              reconnectMaxMs: 300,
            },
            secrets: { password: 'secret' },
          },
        });
        if (res.status !== 201) throw new Error(`creating the SMS link: ${res.status} ${JSON.stringify(res.body)}`);
        await smsc.waitForBind(binds, 20_000);
        return res.body.link.id;
      },
      link,
      async holderOf(id) {
        const view = await link(id);
        const pid = Number(view.runner?.holder.split(':')[1]);
        return workers.find((w) => w.pid === pid);
      },
      async logs() {
        const tails = await Promise.all(processes.map(async (p) => `--- ${p.name} ---\n${await p.logTail(1500)}`));
        return tails.join('\n');
      },
      destroy,
    };
    return cluster;
  } catch (err) {
    await destroy();
    throw err;
  }
}
