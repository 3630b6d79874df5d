/**
 * Private PostgreSQL and Redis servers for the fault tests: each in its own
 * temp directory on a free loopback port, so a test may kill, flush and
 * restart them without touching the machine's shared instances (PEERS.md).
 * Both are registered with {@link onExitKill}, so a crashed test run leaves
 * no server behind.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './kannel.ts';
import { waitFor } from './wait.ts';

const run = promisify(execFile);
const PG_BIN = process.env.LIFELINE_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** Synchronous clean-ups run when the test process exits however it exits. */
const exitHooks = new Set<() => void>();
let hooked = false;

/** Registers a synchronous clean-up for process exit; returns its remover. */
export function onExitKill(hook: () => void): () => void {
  if (!hooked) {
    hooked = true;
    const runAll = () => {
      for (const h of [...exitHooks]) {
        try {
          h();
        } catch {
          // Best effort: the process is going away.
        }
      }
      exitHooks.clear();
    };
    process.once('exit', runAll);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        runAll();
        process.exit(130);
      });
    }
  }
  exitHooks.add(hook);
  return () => exitHooks.delete(hook);
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', () => resolve(false));
  });
}

/** initdb refuses to run as root: run PostgreSQL's tools as the postgres user then. */
function asPostgres(cmd: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
}

export interface PrivatePostgres {
  readonly port: number;
  /** The superuser URL of database `postgres`. */
  readonly adminUrl: string;
  /** A URL for a database of this cluster. */
  urlOf(database: string): string;
  createDatabase(name: string): Promise<string>;
  /** Stops the server as a crash would (`-m immediate`) and starts it again on the same port. */
  restart(): Promise<void>;
  /** Stops the server and removes its directory. */
  destroy(): Promise<void>;
}

/**
 * Starts a private PostgreSQL 15 cluster (trust auth, user postgres). fsync
 * is off (a crash of the server process loses nothing the OS holds; the
 * machine does not crash), synchronous_commit stays on: a commit the
 * gateway acknowledged must survive `restart()`.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const initdb = path.join(PG_BIN, 'initdb');
  if (!existsSync(initdb)) throw new Error(`PostgreSQL binaries not found in ${PG_BIN} (apt-get install -y postgresql, or set LIFELINE_PG_BIN)`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lifeline-pg-'));
  await chmod(dir, 0o777);
  const data = path.join(dir, 'pg');
  const port = await freePort();
  const pgCtl = path.join(PG_BIN, 'pg_ctl');
  const start = async () => {
    const [cmd, args] = asPostgres(pgCtl, [
      '-D',
      data,
      '-w',
      '-t',
      '60',
      '-l',
      path.join(dir, 'log'),
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c full_page_writes=off`,
      'start',
    ]);
    await run(cmd, args);
    await waitFor(`private PostgreSQL on port ${port}`, () => answers(port), 30_000, 50);
  };
  const stopArgs = (mode: 'immediate' | 'fast') => asPostgres(pgCtl, ['-D', data, '-w', '-t', '60', '-m', mode, 'stop']);
  const [initCmd, initArgs] = asPostgres(initdb, ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  await run(initCmd, initArgs);
  const removeHook = onExitKill(() => {
    const [cmd, args] = stopArgs('immediate');
    execFileSync(cmd, args, { stdio: 'ignore' });
  });
  await start();
  const urlOf = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    port,
    adminUrl: urlOf('postgres'),
    urlOf,
    async createDatabase(name) {
      const [cmd, args] = asPostgres(path.join(PG_BIN, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-c', `create database ${name}`]);
      await run(cmd, args);
      return urlOf(name);
    },
    async restart() {
      const [cmd, args] = stopArgs('immediate');
      await run(cmd, args);
      await start();
    },
    async destroy() {
      const [cmd, args] = stopArgs('immediate');
      await run(cmd, args).catch(() => undefined);
      removeHook();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  /** FLUSHALL, then kill -9 and start again on the same port: everything Redis held is gone. */
  flushAndRestart(): Promise<void>;
  /** Ids of the jobs waiting in the BullMQ queue `prefix:name` (waiting, prioritised or delayed; not yet handed to a worker). */
  waitingJobIds(queueKey: string): Promise<string[]>;
  destroy(): Promise<void>;
}

/** Starts a private redis-server without persistence. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lifeline-redis-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}/0`;
  let child: ChildProcess | undefined;
  let logText = '';
  const start = async () => {
    const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    proc.stdout?.on('data', (c: Buffer) => (logText = (logText + c.toString()).slice(-4000)));
    proc.stderr?.on('data', (c: Buffer) => (logText = (logText + c.toString()).slice(-4000)));
    await waitFor(`private Redis on port ${port}`, () => {
      if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}: ${logText}`);
      return answers(port);
    }, 20_000, 25);
  };
  const kill = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
  };
  const removeHook = onExitKill(() => child?.kill('SIGKILL'));
  await start();
  const withClient = async <T>(use: (client: Redis) => Promise<T>): Promise<T> => {
    const client = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
    try {
      await client.connect();
      return await use(client);
    } finally {
      client.disconnect();
    }
  };
  return {
    port,
    url,
    waitingJobIds: (queueKey) =>
      withClient(async (client) => {
        const [waiting, prioritized, delayed] = await Promise.all([
          client.lrange(`${queueKey}:wait`, 0, -1),
          client.zrange(`${queueKey}:prioritized`, '0', '-1'),
          client.zrange(`${queueKey}:delayed`, '0', '-1'),
        ]);
        return [...waiting, ...prioritized, ...delayed];
      }),
    async flushAndRestart() {
      await withClient((client) => client.flushall());
      await kill();
      await start();
    },
    async destroy() {
      await kill();
      removeHook();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
