/**
 * Locates or starts the test services. URLs come from TEST_DATABASE_URL and
 * TEST_REDIS_URL (defaults: the local PostgreSQL and Redis on their standard ports).
 */
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { waitFor } from './wait.ts';

export const ADMIN_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

function reachable(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: u.hostname, port: Number(u.port) }, () => {
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

async function waitReachable(url: string, ms: number): Promise<boolean> {
  return waitFor(`${new URL(url).host} to answer`, () => reachable(url), ms, 200).then(
    () => true,
    () => false,
  );
}

const run = (cmd: string) => execSync(cmd, { stdio: ['ignore', 'inherit', 'inherit'] });
const mayInstall = () => process.getuid?.() === 0 && process.env.LIFELINE_INSTALL_SERVICES !== '0';
let aptUpdated = false;

function aptInstall(packages: string): void {
  if (!mayInstall()) throw new Error(`missing ${packages}: install them (apt-get install -y ${packages}) or run as root`);
  if (!aptUpdated) run('apt-get update -qq');
  aptUpdated = true;
  run(`DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${packages}`);
}

async function ensurePostgres(): Promise<void> {
  if (await reachable(ADMIN_DATABASE_URL)) return;
  if (process.env.TEST_DATABASE_URL) throw new Error(`PostgreSQL at TEST_DATABASE_URL is not reachable`);
  if (!existsSync('/etc/postgresql')) aptInstall('postgresql');
  for (const version of readdirSync('/etc/postgresql')) {
    const hba = `/etc/postgresql/${version}/main/pg_hba.conf`;
    // The tests connect as postgres over loopback without a password, as on the dev machines.
    if (mayInstall() && !readFileSync(hba, 'utf8').includes('host all postgres 127.0.0.1/32 trust')) {
      writeFileSync(hba, `host all postgres 127.0.0.1/32 trust\nhost all postgres ::1/128 trust\n${readFileSync(hba, 'utf8')}`);
    }
    run(`pg_ctlcluster --skip-systemctl-redirect ${version} main start || true`);
  }
  if (!(await waitReachable(ADMIN_DATABASE_URL, 20000))) {
    throw new Error('PostgreSQL did not come up on 127.0.0.1:5432 (check the cluster allows trust auth for postgres)');
  }
}

async function ensureRedis(): Promise<void> {
  if (await reachable(REDIS_URL)) return;
  if (process.env.TEST_REDIS_URL) throw new Error('Redis at TEST_REDIS_URL is not reachable');
  if (!existsSync('/usr/bin/redis-server')) aptInstall('redis-server');
  run('redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no');
  if (!(await waitReachable(REDIS_URL, 10000))) throw new Error('Redis did not come up on 127.0.0.1:6379');
}

/** Ensures PostgreSQL and Redis answer, starting or installing them if needed. */
export async function ensureServices(): Promise<void> {
  await ensurePostgres();
  await ensureRedis();
}
