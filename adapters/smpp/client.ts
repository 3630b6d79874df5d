/**
 * A client-mode SMPP link: the gateway connects to the carrier's SMSC
 * (TCP or TLS), binds as an ESME in the configured mode, keeps the session
 * alive, and reconnects with exponential backoff and full jitter whenever
 * the connection, the bind or the session fails. It owns the link's
 * counters and status, the durable part assembler with its periodic sweep,
 * and the send path for replies.
 *
 * The socket is opened with node:net / node:tls directly, with the options
 * `smpp.connect` would pass (host, port, `rejectUnauthorized`), because the
 * package's Session reader stalls on the first unreadable PDU; session.ts
 * frames and answers PDUs itself.
 */
import net, { type Socket } from 'node:net';
import tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import smpp, { type PDU } from 'smpp';
import type { OutboundMessage, SendResult } from '../types.ts';
import { ChannelSendError } from '../../src/errors.ts';
import type { SmppClientSettings } from './config.ts';
import { SmppLinkBase, type LinkOptions } from './link.ts';
import { statusName, type SmppSession } from './session.ts';

/** Everything a client link is made from. */
export type ClientLinkOptions = LinkOptions<SmppClientSettings>;

/** Exponential backoff with full jitter: uniform in [10 ms, min(max, min·2^attempt)). */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const cap = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.max(10, Math.floor(random() * cap));
}

/** Connects a socket, rejecting on error, timeout or abort. */
function connectSocket(s: SmppClientSettings, timeoutMs: number, signal: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = s.tls
      ? tls.connect({ host: s.host, port: s.port, rejectUnauthorized: s.tlsRejectUnauthorized, ...(net.isIP(s.host) ? {} : { servername: s.host }) })
      : net.connect({ host: s.host, port: s.port });
    const fail = (err: Error) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(err);
    };
    const onAbort = () => fail(new Error('link stopped'));
    const timer = setTimeout(() => fail(new Error(`connect timed out after ${timeoutMs} ms`)), timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('error', fail);
    socket.once(s.tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.removeListener('error', fail);
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 30_000);
      resolve(socket);
    });
  });
}

/** One client-mode link; see the module comment. */
export class SmppClientLink extends SmppLinkBase<SmppClientSettings> {
  private readonly abort = new AbortController();
  private session: SmppSession | undefined;
  private bound = false;
  private smscSystemId: string | undefined;
  private nextAttemptAt: string | undefined;
  private loop: Promise<void> = Promise.resolve();

  constructor(options: ClientLinkOptions) {
    super(options, ['reconnects']);
  }

  /** Starts connecting (and the parts sweep); returns at once. */
  start(): void {
    this.loop = this.run();
    this.startSweep();
  }

  /** Unbinds (waiting for unbind_resp at most a few seconds) and stops reconnecting. */
  async stop(): Promise<void> {
    this.abort.abort();
    const session = this.session;
    if (session) {
      if (this.bound) await session.unbind(Math.min(2000, this.options.settings.responseTimeoutMs));
      else session.destroy('link stopped');
    }
    await this.loop;
    await this.stopSweep();
    this.setState('stopped', this.lastError);
    this.log.info('SMPP link stopped');
  }

  /** Sends a reply on this link as submit_sm, with a final delivery receipt requested; see outbound.ts. */
  send(msg: OutboundMessage): Promise<SendResult> {
    if (this.options.settings.bindMode === 'receiver') {
      return Promise.reject(new ChannelSendError(`SMPP link ${this.options.name} is bound as a receiver and cannot send`, { retryable: false }));
    }
    return this.sendOn(() => this.boundSession(), 'submit_sm', smpp.REGISTERED_DELIVERY.FINAL, msg);
  }

  protected detail(): Record<string, unknown> {
    const s = this.options.settings;
    return {
      bindMode: s.bindMode,
      peer: `${s.host}:${s.port}`,
      tls: s.tls,
      ...(this.smscSystemId !== undefined ? { smscSystemId: this.smscSystemId } : {}),
      outstanding: this.session?.outstanding ?? 0,
      ...(this.state === 'down' && this.nextAttemptAt ? { nextAttemptAt: this.nextAttemptAt } : {}),
    };
  }

  private boundSession(): SmppSession {
    const session = this.session;
    if (!session || !this.bound || !session.isOpen) throw new ChannelSendError(`SMPP link ${this.options.name} is not bound`, { retryable: true });
    return session;
  }

  private async run(): Promise<void> {
    const s = this.options.settings;
    let attempt = 0;
    for (;;) {
      try {
        const session = await this.connectAndBind();
        attempt = 0;
        const reason = await session.closed;
        this.bound = false;
        this.session = undefined;
        if (this.abort.signal.aborted) return;
        this.log.warn({ reason }, 'SMPP session closed');
        this.setState('down', `session closed: ${reason}`);
      } catch (err) {
        this.bound = false;
        this.session = undefined;
        if (this.abort.signal.aborted) return;
        const message = err instanceof Error ? err.message : String(err);
        this.log.warn({ err: message, attempt }, 'SMPP connect or bind failed');
        this.setState('down', message);
      }
      const delay = backoffDelay(attempt++, s.reconnectMinMs, s.reconnectMaxMs);
      this.nextAttemptAt = new Date(Date.now() + delay).toISOString();
      try {
        await sleep(delay, undefined, { signal: this.abort.signal });
      } catch {
        return; // stopped
      }
      this.counters.reconnects = (this.counters.reconnects ?? 0) + 1;
    }
  }

  private async connectAndBind(): Promise<SmppSession> {
    const s = this.options.settings;
    if (this.state !== 'down') this.setState('connecting', this.lastError);
    const socket = await connectSocket(s, s.responseTimeoutMs, this.abort.signal);
    const session = this.createSession(socket, { side: 'esme', receipts: true });
    this.session = session;
    if (this.abort.signal.aborted) session.destroy('link stopped');
    let resp: PDU;
    try {
      resp = await session.request(`bind_${s.bindMode}`, {
        system_id: s.systemId,
        password: this.options.secrets.password,
        system_type: s.systemType,
        interface_version: 0x34,
        addr_ton: 0,
        addr_npi: 0,
        address_range: '',
      });
    } catch (err) {
      session.destroy('bind failed');
      throw err;
    }
    if (resp.command_status !== 0) {
      session.destroy('bind refused');
      throw new Error(`bind refused: ${statusName(resp.command_status)}`);
    }
    this.bound = true;
    this.smscSystemId = typeof resp.system_id === 'string' ? resp.system_id : undefined;
    session.startEnquireLink();
    this.setState('up', null);
    this.log.info({ bindMode: s.bindMode, peer: `${s.host}:${s.port}` }, 'SMPP link bound');
    return session;
  }
}
