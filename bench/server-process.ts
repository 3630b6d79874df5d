/**
 * The server under test in a child process (Lifeline's gateway, or the raw
 * baseline), so its memory and CPU are its own and not the load
 * generator's. Read from /proc: resident set size and CPU time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { stopProcess } from '../test/support/process.ts';
import { waitFor } from '../test/support/wait.ts';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

export interface ServerProcess {
  readonly pid: number;
  readonly url: string;
  /** Resident set size in bytes (VmRSS). */
  rss(): number;
  /** User plus system CPU time so far, in ms. */
  cpuMs(): number;
  /** The last lines it wrote to stderr (for error messages). */
  stderrTail(): string;
  /** SIGTERM (the process shuts down and, under --cpu-prof, writes its profile), SIGKILL after 20 s. */
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** Module to run with tsx, relative to the repository root. */
  entry: string;
  env: Record<string, string>;
  port: number;
  /** Path answering 200 once the server is ready. */
  readyPath: string;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeArgs?: string[];
}

/** Reads one process's RSS in bytes from /proc. */
export function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

/** Reads one process's user + system CPU time in ms from /proc. */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at state, field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND) * 1000;
}

/** Starts `node --import tsx <entry>` and resolves once `readyPath` answers 200. */
export async function spawnServer(o: SpawnOptions): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, [...(o.nodeArgs ?? []), '--import', 'tsx', o.entry], {
    cwd: new URL('..', import.meta.url).pathname,
    env: { ...process.env, ...o.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let tail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4000);
  });
  const url = `http://127.0.0.1:${o.port}`;
  const pid = child.pid as number;
  const server: ServerProcess = {
    pid,
    url,
    rss: () => rssOf(pid),
    cpuMs: () => cpuMsOf(pid),
    stderrTail: () => tail,
    stop: () => stopProcess(child, 20_000),
  };
  try {
    await waitFor(
      `${o.entry} ready on ${url}${o.readyPath}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`${o.entry} exited with ${child.exitCode}: ${tail}`);
        const res = await fetch(`${url}${o.readyPath}`).catch(() => undefined);
        return res?.status === 200;
      },
      60_000,
      100,
    );
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}

/** Busy share of the whole machine (all cores) between two readings of /proc/stat. */
export function machineCpu(): () => number {
  const read = () => {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
    const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
    return { idle, total: cpu.reduce((a, b) => a + b, 0) };
  };
  const before = read();
  return () => {
    const after = read();
    const total = after.total - before.total;
    return total > 0 ? 1 - (after.idle - before.idle) / total : 0;
  };
}

/**
 * CPU time (ms) of every process of the PostgreSQL cluster `sql` talks to
 * (the postmaster's children: backends, WAL writer, checkpointer), summed
 * from /proc. Backends that exit between two readings drop out, so read it
 * while the servers' connection pools are open. Other databases on the same
 * cluster count too.
 */
export async function postgresCpu(sql: { unsafe(query: string): Promise<unknown> }): Promise<() => number> {
  const [row] = (await sql.unsafe('select pg_backend_pid() as pid')) as Array<{ pid: number }>;
  const stat = readFileSync(`/proc/${row!.pid}/stat`, 'utf8');
  const postmaster = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  return () => {
    let total = cpuMsOf(postmaster);
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const s = readFileSync(`/proc/${entry}/stat`, 'utf8');
        if (Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]) === postmaster) total += cpuMsOf(Number(entry));
      } catch {
        // The process exited while we looked.
      }
    }
    return total;
  };
}
