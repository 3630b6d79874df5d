/**
 * A private Dovecot IMAP server for the e-mail tests: its own temp directory,
 * a free loopback port, one user, plain login without TLS (as PEERS.md
 * describes). `restart()` keeps the port and the mail, so a test can take
 * the server away and bring it back. Installs Debian's dovecot-imapd when it
 * is missing and the tests run as root (LIFELINE_INSTALL_SERVICES=0 forbids it).
 */
import { stopProcess } from './process.ts';
import { execSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { chmod, chown, mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { freePort } from './kannel.ts';
import { waitFor } from './wait.ts';

const DOVECOT = '/usr/sbin/dovecot';

/** Options for a private Dovecot. */
export interface DovecotOptions {
  user?: string;
  password?: string;
}

/** A running private Dovecot and helpers to fill its mailbox. */
export interface Dovecot {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** Appends a raw message to a folder (INBOX by default) over IMAP; resolves with its UID. */
  appendMail(raw: Buffer | string, folder?: string): Promise<number>;
  /**
   * Delivers a raw message the way a local delivery agent does: a file
   * written into the user's maildir (tmp, then renamed into new). Works while
   * the server is stopped; Dovecot assigns its UID when it next looks.
   */
  deliverToMaildir(raw: Buffer | string): Promise<void>;
  /** Makes Dovecot forget the INBOX's UIDs (server stopped): it starts again with a new UIDVALIDITY. */
  forgetUids(): Promise<void>;
  /** A logged-in imapflow client on this server (the caller logs out). */
  connect(): Promise<ImapFlow>;
  /** Dovecot's log so far (stderr), for failure messages. */
  log(): string;
  /** Stops the server; mail and port are kept for `start()`. */
  stopServer(): Promise<void>;
  /** Starts it again on the same port (after `stopServer`). */
  start(): Promise<void>;
  /**
   * Kills the server and every process it started (kill -9 of its process
   * group): open connections drop at once, as when the mail host fails.
   * Mail and port are kept for `start()`.
   */
  crash(): Promise<void>;
  /** Stops and starts again, keeping port and mail. */
  restart(): Promise<void>;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

function ensureDovecot(): void {
  if (existsSync(DOVECOT) && existsSync('/usr/lib/dovecot/imap')) return;
  if (process.getuid?.() !== 0 || process.env.LIFELINE_INSTALL_SERVICES === '0') {
    throw new Error("Dovecot is missing: install Debian's dovecot-imapd package (apt-get install -y dovecot-imapd)");
  }
  execSync('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd', { stdio: 'inherit' });
}

function config(dir: string, port: number): string {
  return `protocols = imap
listen = 127.0.0.1
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = /dev/stderr
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:${dir}/mail/%u
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=${dir}/mail/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
`;
}

/** True once the server greets on the port with `* OK`. */
function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('data', (chunk) => done(chunk.toString('latin1').startsWith('* OK')));
    socket.once('error', () => done(false));
  });
}

/** Starts a private Dovecot with one user (default `psap@test.local` / `secret`). */
export async function startDovecot(options: DovecotOptions = {}): Promise<Dovecot> {
  ensureDovecot();
  const user = options.user ?? 'psap@test.local';
  const password = options.password ?? 'secret';
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lifeline-dovecot-'));
  // The auth process runs as user dovecot and must reach the users file.
  await chmod(dir, 0o755);
  await mkdir(path.join(dir, 'mail'), { recursive: true });
  await mkdir(path.join(dir, 'state'), { recursive: true });
  await writeFile(path.join(dir, 'users'), `${user}:{PLAIN}${password}\n`, { mode: 0o644 });
  execSync(`chown -R nobody:nogroup ${JSON.stringify(path.join(dir, 'mail'))}`);
  const port = await freePort();
  const confPath = path.join(dir, 'dovecot.conf');
  await writeFile(confPath, config(dir, port));

  let child: ChildProcess | undefined;
  let logText = '';
  const host = '127.0.0.1';

  const start = async () => {
    // Its own process group, so `crash` reaches the imap processes serving open connections too.
    const proc = spawn(DOVECOT, ['-F', '-c', confPath], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child = proc;
    proc.stdout?.on('data', (chunk: Buffer) => (logText += chunk.toString()));
    proc.stderr?.on('data', (chunk: Buffer) => (logText += chunk.toString()));
    await waitFor(`Dovecot to greet on port ${port}`, async () => {
      if (proc.exitCode !== null) throw new Error(`Dovecot exited with ${proc.exitCode}: ${logText.slice(-2000)}`);
      return greets(port);
    }, 20_000, 50);
  };

  const stopServer = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    await stopProcess(proc);
    // Its children close the listener shortly after the master exits; wait until the port refuses.
    await waitFor(`Dovecot to release port ${port}`, async () => !(await greets(port)), 10_000, 50);
  };

  const crash = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.pid === undefined) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    process.kill(-proc.pid, 'SIGKILL');
    await exited;
    await waitFor(`Dovecot to release port ${port}`, async () => !(await greets(port)), 10_000, 50);
  };

  const connect = async () => {
    const client = new ImapFlow({ host, port, secure: false, doSTARTTLS: false, auth: { user, pass: password }, logger: false });
    await client.connect();
    return client;
  };

  await start();
  return {
    host,
    port,
    user,
    password,
    async appendMail(raw, folder = 'INBOX') {
      const client = await connect();
      try {
        const result = await client.append(folder, typeof raw === 'string' ? Buffer.from(raw) : raw);
        if (!result || result.uid === undefined) throw new Error(`APPEND to ${folder} returned no UID`);
        return result.uid;
      } finally {
        await client.logout();
      }
    },
    async deliverToMaildir(raw) {
      const root = path.join(dir, 'mail', user);
      for (const sub of ['tmp', 'new', 'cur']) await mkdir(path.join(root, sub), { recursive: true });
      const name = `${Date.now()}.${randomUUID()}.lifeline-test`;
      const tmp = path.join(root, 'tmp', name);
      await writeFile(tmp, raw);
      const ids = execSync('id -u nobody; getent group nogroup | cut -d: -f3').toString().trim().split('\n').map(Number);
      for (const p of [root, path.join(root, 'tmp'), path.join(root, 'new'), path.join(root, 'cur'), tmp]) await chown(p, ids[0]!, ids[1]!);
      await rename(tmp, path.join(root, 'new', name));
    },
    async forgetUids() {
      if (child) throw new Error('forgetUids needs the server stopped');
      const root = path.join(dir, 'mail', user);
      for (const file of await readdir(root)) {
        if (file === 'dovecot-uidlist' || file.startsWith('dovecot.index')) await rm(path.join(root, file), { force: true });
      }
    },
    connect,
    log: () => logText,
    stopServer,
    crash,
    start,
    async restart() {
      await stopServer();
      await start();
    },
    async stop() {
      await stopServer();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
