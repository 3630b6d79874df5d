/**
 * Real gateway processes (`node --import tsx src/main.ts --role …`) as
 * children of the test, each on a fixed port so it can be killed and started
 * again where its clients reconnect. Output goes to a log file per process
 * (kept for failure messages); every child is SIGKILLed if the test process
 * exits first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProcessRole } from '../../src/config.ts';
import { freePort } from './kannel.ts';
import { onExitKill } from './private-services.ts';
import { stopProcess } from './process.ts';
import { waitFor } from './wait.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface GatewayProcess {
  readonly name: string;
  readonly role: ProcessRole;
  readonly port: number;
  readonly url: string;
  /** The running child's pid (undefined while it is down). */
  readonly pid: number | undefined;
  /** Starts the process (again) and resolves once it listens. */
  start(): Promise<void>;
  /** kill -9, and resolves once it is gone. */
  kill9(): Promise<void>;
  /** SIGSTOP: the process freezes (its connections stay open, nothing runs). */
  pause(): void;
  /** SIGCONT after {@link pause}. */
  resume(): void;
  /** SIGTERM (SIGKILL after a deadline). */
  stop(): Promise<void>;
  /** The tail of its output, for failure messages. */
  logTail(chars?: number): Promise<string>;
}

/** Defines a gateway process (not started yet) with the given role and environment. */
export async function gatewayProcess(name: string, role: ProcessRole, env: Record<string, string>, logDir: string): Promise<GatewayProcess> {
  const port = await freePort();
  const logPath = path.join(logDir, `${name}.log`);
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let out: WriteStream | undefined;
  const removeHook = onExitKill(() => child?.kill('SIGKILL'));
  const logTail = async (chars = 3000) => (await readFile(logPath, 'utf8').catch(() => '')).slice(-chars);

  return {
    name,
    role,
    port,
    url,
    get pid() {
      return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
    async start() {
      if (child && child.exitCode === null && child.signalCode === null) throw new Error(`${name} is already running`);
      out ??= createWriteStream(logPath, { flags: 'a' });
      out.write(`\n==== start ${new Date().toISOString()} ====\n`);
      const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--role', role], {
        cwd: ROOT,
        env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', LIFELINE_ROLE: role },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = proc;
      let listening = false;
      let buffered = '';
      proc.stdout?.on('data', (chunk: Buffer) => {
        out?.write(chunk);
        if (listening) return;
        buffered += chunk.toString();
        if (buffered.includes('"msg":"gateway listening"')) listening = true;
      });
      proc.stderr?.on('data', (chunk: Buffer) => out?.write(chunk));
      await waitFor(`${name} (${role}) to listen on ${port}`, async () => {
        if (proc.exitCode !== null || proc.signalCode !== null) {
          throw new Error(`${name} exited (${proc.exitCode ?? proc.signalCode}): ${await logTail()}`);
        }
        return listening;
      }, 60_000, 50).catch(async (err: unknown) => {
        proc.kill('SIGKILL');
        throw err;
      });
    },
    async kill9() {
      const proc = child;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGKILL');
      await exited;
      out?.write(`\n==== killed -9 ${new Date().toISOString()} ====\n`);
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async stop() {
      child?.kill('SIGCONT');
      if (child) await stopProcess(child, 10_000);
      removeHook();
      await new Promise<void>((resolve) => (out ? out.end(() => resolve()) : resolve()));
      out = undefined;
    },
    logTail,
  };
}
