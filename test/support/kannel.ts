/**
 * Kannel as a real third-party ESME: its bearerbox binds as a transceiver to
 * an SMPP server (the gateway in server mode), its smsbox sends texts on an
 * HTTP `sendsms` call, hands mobile-terminated texts to our `get-url` and
 * delivery reports to our `dlr-url`. Private ports, a temp directory, and
 * stopped afterwards. Installs Debian's kannel package when it is missing and
 * the tests run as root (LIFELINE_INSTALL_SERVICES=0 forbids it).
 */
import { execSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { stopProcess } from './process.ts';
import { waitFor } from './wait.ts';

export interface KannelOptions {
  /** The SMPP server Kannel binds to. */
  smppPort: number;
  systemId: string;
  password: string;
}

export interface MobileTerminated {
  from: string;
  to: string;
  text: string;
}

export interface DeliveryReport {
  id: string;
  type: number;
}

export interface Kannel {
  /** Texts Kannel received from the SMPP server (our replies), as its get-url saw them. */
  readonly received: MobileTerminated[];
  /** Delivery reports Kannel got for what it sent, as its dlr-url saw them. */
  readonly reports: DeliveryReport[];
  /** Sends a text through Kannel (submit_sm to the SMPP server); `coding` 2 is UCS-2. */
  sendSms(input: { from: string; to: string; text: string; coding?: 0 | 2; dlrId?: string }): Promise<void>;
  /** Kannel's own status page (bearerbox). */
  status(): Promise<string>;
  /** Waits until Kannel reports the SMPP link online. */
  waitOnline(timeoutMs?: number): Promise<void>;
  log(): Promise<string>;
  stop(): Promise<void>;
}

/** How long bearerbox and smsbox get to exit on SIGTERM before SIGKILL. */
const STOP_DEADLINE_MS = 5000;

function ensureKannel(): void {
  if (existsSync('/usr/sbin/bearerbox') && existsSync('/usr/sbin/smsbox')) return;
  if (process.getuid?.() !== 0 || process.env.LIFELINE_INSTALL_SERVICES === '0') {
    throw new Error('Kannel is missing: install Debian\'s kannel package (apt-get install -y kannel)');
  }
  execSync('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kannel', { stdio: 'inherit' });
}

/** A loopback TCP port free right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts bearerbox and smsbox bound to the given SMPP server. */
export async function startKannel(options: KannelOptions): Promise<Kannel> {
  ensureKannel();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lifeline-kannel-'));
  const received: MobileTerminated[] = [];
  const reports: DeliveryReport[] = [];
  const hooks = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/mt') {
      received.push({ from: url.searchParams.get('from') ?? '', to: url.searchParams.get('to') ?? '', text: url.searchParams.get('text') ?? '' });
    } else if (url.pathname === '/dlr') {
      reports.push({ id: url.searchParams.get('id') ?? '', type: Number(url.searchParams.get('type')) });
    }
    // An empty 200 answer: Kannel sends no reply text back.
    res.writeHead(200, { 'content-type': 'text/plain' }).end('');
  });
  await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
  const hookPort = (hooks.address() as AddressInfo).port;
  const [adminPort, boxPort, sendPort] = [await freePort(), await freePort(), await freePort()];

  const conf = `
group = core
admin-port = ${adminPort}
admin-password = adminpw
admin-allow-ip = "127.0.0.1"
smsbox-port = ${boxPort}
box-allow-ip = "127.0.0.1"
log-file = "${dir}/bearerbox.log"
log-level = 0
access-log = "${dir}/access.log"
dlr-storage = internal
store-type = spool
store-location = "${dir}/store"

group = smsc
smsc = smpp
smsc-id = carrier
host = 127.0.0.1
port = ${options.smppPort}
transceiver-mode = true
smsc-username = "${options.systemId}"
smsc-password = "${options.password}"
system-type = ""
enquire-link-interval = 5
reconnect-delay = 1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = ${boxPort}
sendsms-port = ${sendPort}
sendsms-interface = 127.0.0.1
log-file = "${dir}/smsbox.log"
log-level = 0

group = sendsms-user
username = tester
password = secret
max-messages = 10
concatenation = true

group = sms-service
keyword = default
catch-all = true
get-url = "http://127.0.0.1:${hookPort}/mt?from=%p&to=%P&text=%a"
max-messages = 0
`;
  const confPath = path.join(dir, 'kannel.conf');
  await writeFile(confPath, conf);
  await mkdir(path.join(dir, 'store'), { recursive: true });
  const children: ChildProcess[] = [];
  const start = (bin: string) => {
    const child = spawn(bin, ['-v', '1', confPath], { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir });
    child.stderr?.resume();
    children.push(child);
    return child;
  };
  start('/usr/sbin/bearerbox');
  await waitFor('Kannel bearerbox admin port', () => new Promise<boolean>((resolve) => {
    const s = net.connect(adminPort, '127.0.0.1', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  }), 20_000, 100);
  start('/usr/sbin/smsbox');
  await waitFor('Kannel smsbox sendsms port', () => new Promise<boolean>((resolve) => {
    const s = net.connect(sendPort, '127.0.0.1', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  }), 20_000, 100);

  const status = async () => (await fetch(`http://127.0.0.1:${adminPort}/status.txt?password=adminpw`)).text();
  return {
    received,
    reports,
    async sendSms(input) {
      const q = new URLSearchParams({ username: 'tester', password: 'secret', from: input.from, to: input.to, text: input.text });
      if (input.coding !== undefined) {
        q.set('coding', String(input.coding));
        q.set('charset', 'UTF-8');
      }
      if (input.dlrId) {
        q.set('dlr-mask', '3');
        q.set('dlr-url', `http://127.0.0.1:${hookPort}/dlr?id=${encodeURIComponent(input.dlrId)}&type=%d`);
      }
      const res = await fetch(`http://127.0.0.1:${sendPort}/cgi-bin/sendsms?${q.toString()}`);
      const body = await res.text();
      if (res.status >= 300) throw new Error(`Kannel sendsms refused (${res.status}): ${body}`);
    },
    status,
    async waitOnline(timeoutMs = 20_000) {
      await waitFor('Kannel to report the SMPP link online', async () => /carrier\[[^\]]*\][^\n]*online/.test(await status()), timeoutMs, 200);
    },
    async log() {
      return readFile(path.join(dir, 'bearerbox.log'), 'utf8').catch(() => '');
    },
    async stop() {
      for (const child of children.reverse()) await stopProcess(child, STOP_DEADLINE_MS);
      await new Promise<void>((resolve) => hooks.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
