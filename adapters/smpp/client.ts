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
import type { PDU, PduOptions } from 'smpp';
import type { AdapterDeps, OutboundMessage, SendResult } from '../types.ts';
import type { LinkStatus } from '../../src/channel.ts';
import { ChannelSendError } from '../../src/errors.ts';
import type { Logger } from '../../src/log.ts';
import { PartAssembler } from './assembly.ts';
import type { SmppClientSettings, SmppSecrets } from './config.ts';
import { createMessageHandler } from './inbound.ts';
import { sendSms } from './outbound.ts';
import { SmppSession, statusName, type Counters } from './session.ts';

/** Everything a client link is made from. */
export interface ClientLinkOptions {
  linkId: string;
  name: string;
  settings: SmppClientSettings;
  secrets: SmppSecrets;
  deps: AdapterDeps;
  /** How often stored parts are checked for completeness or timeout. */
  partsCheckIntervalMs: number;
}

/** Counters every link shows from the start, even at zero. */
const COUNTERS = ['pdusIn', 'pdusOut', 'messagesIn', 'messagesOut', 'throttled', 'receipts', 'reconnects'] as const;

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
export class SmppClientLink {
  readonly counters: Counters = Object.fromEntries(COUNTERS.map((c) => [c, 0]));
  private readonly log: Logger;
  private readonly assembler: PartAssembler;
  private readonly abort = new AbortController();
  private readonly writes = new Set<Promise<void>>();
  private readonly submitting = new Set<Promise<PDU>>();
  private state: LinkStatus['state'] = 'starting';
  private since = new Date();
  private lastError: string | null = null;
  private session: SmppSession | undefined;
  private bound = false;
  private smscSystemId: string | undefined;
  private nextAttemptAt: string | undefined;
  private loop: Promise<void> = Promise.resolve();
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping = false;

  constructor(private readonly options: ClientLinkOptions) {
    this.log = options.deps.log.child({ component: 'smpp', linkId: options.linkId });
    const s = options.settings;
    this.assembler = new PartAssembler({
      linkId: options.linkId,
      deps: options.deps,
      log: this.log,
      counters: this.counters,
      decode: { smscDefaultAlphabet: s.smscDefaultAlphabet, ia5Alphabet: s.ia5Alphabet },
      partsTimeoutMs: s.partsTimeoutSeconds * 1000,
    });
  }

  /** Starts connecting (and the parts sweep); returns at once. */
  start(): void {
    this.loop = this.run();
    this.sweep();
    this.sweepTimer = setInterval(() => this.sweep(), this.options.partsCheckIntervalMs);
    this.sweepTimer.unref();
  }

  /** Unbinds (waiting for unbind_resp at most a few seconds) and stops reconnecting. */
  async stop(): Promise<void> {
    this.abort.abort();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    const session = this.session;
    if (session) {
      if (this.bound) await session.unbind(Math.min(2000, this.options.settings.responseTimeoutMs));
      else session.destroy('link stopped');
    }
    await this.loop;
    await this.assembler.idle();
    this.setState('stopped', this.lastError);
    this.log.info('SMPP link stopped');
  }

  /** The link's live status for administrators. */
  status(): LinkStatus {
    const s = this.options.settings;
    return {
      state: this.state,
      since: this.since.toISOString(),
      lastError: this.lastError,
      counters: { ...this.counters },
      detail: {
        mode: s.mode,
        bindMode: s.bindMode,
        peer: `${s.host}:${s.port}`,
        tls: s.tls,
        ...(this.smscSystemId !== undefined ? { smscSystemId: this.smscSystemId } : {}),
        outstanding: this.session?.outstanding ?? 0,
        ...(this.state === 'down' && this.nextAttemptAt ? { nextAttemptAt: this.nextAttemptAt } : {}),
      },
    };
  }

  /** Sends a reply on this link; see outbound.ts. */
  send(msg: OutboundMessage): Promise<SendResult> {
    if (this.options.settings.bindMode === 'receiver') {
      return Promise.reject(new ChannelSendError(`SMPP link ${this.options.name} is bound as a receiver and cannot send`, { retryable: false }));
    }
    return sendSms(
      {
        linkId: this.options.linkId,
        settings: this.options.settings,
        db: this.options.deps.db,
        log: this.log,
        counters: this.counters,
        submit: (fields) => this.submit(fields),
        track: (write) => this.track(write),
      },
      msg,
    );
  }

  private submit(fields: PduOptions): Promise<PDU> {
    const session = this.session;
    if (!session || !this.bound || !session.isOpen) {
      return Promise.reject(new ChannelSendError(`SMPP link ${this.options.name} is not bound`, { retryable: true }));
    }
    const request = session.request('submit_sm', fields, { paced: true });
    this.submitting.add(request);
    const forget = () => this.submitting.delete(request);
    void request.then(forget, forget);
    return request;
  }

  /** See InboundContext.settleSubmissions. */
  private async settleSubmissions(outstanding: boolean): Promise<void> {
    // An answer read just before this receipt resumes its sender in microtasks: let them run first.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (outstanding && this.submitting.size > 0) {
      await Promise.allSettled([...this.submitting]);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await Promise.allSettled([...this.writes]);
  }

  private track(write: Promise<void>): Promise<void> {
    this.writes.add(write);
    return write.finally(() => this.writes.delete(write));
  }

  private sweep(): void {
    if (this.sweeping) return;
    this.sweeping = true;
    void this.assembler.sweep().finally(() => {
      this.sweeping = false;
    });
  }

  private setState(state: LinkStatus['state'], error: string | null): void {
    if (state !== this.state) this.since = new Date();
    this.state = state;
    this.lastError = error;
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
    const session = new SmppSession(socket, {
      window: s.window,
      throughput: s.throughput,
      enquireLinkMs: s.enquireLinkSeconds * 1000,
      responseTimeoutMs: s.responseTimeoutMs,
      log: this.log,
      counters: this.counters,
      onMessage: createMessageHandler({
        linkId: this.options.linkId,
        deps: this.options.deps,
        log: this.log,
        counters: this.counters,
        decode: { smscDefaultAlphabet: s.smscDefaultAlphabet, ia5Alphabet: s.ia5Alphabet },
        assembler: this.assembler,
        settleSubmissions: (outstanding) => this.settleSubmissions(outstanding),
      }),
    });
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
