/**
 * What client-mode and server-mode SMPP links share: the per-link counters,
 * status and logger, the durable part assembler with its periodic sweep,
 * sessions built from the link's settings with the inbound handler, and the
 * send path (outbound.ts) with the bookkeeping a receipt may wait on.
 * client.ts and server.ts add how a session comes to exist (connect and
 * bind, or listen and accept binds) and which session a reply goes out on.
 */
import type { Socket } from 'node:net';
import type { PDU, PduOptions } from 'smpp';
import type { LinkStatus } from '../../src/channel.ts';
import type { Logger } from '../../src/log.ts';
import type { AdapterDeps, OutboundMessage, SendResult } from '../types.ts';
import { PartAssembler } from './assembly.ts';
import type { SmppSecrets, SmppSettings } from './config.ts';
import { createMessageHandler, type InboundContext } from './inbound.ts';
import { sendSms } from './outbound.ts';
import { SmppSession, type Counters, type SessionOptions } from './session.ts';

/** Everything a link is made from. */
export interface LinkOptions<S extends SmppSettings> {
  linkId: string;
  name: string;
  settings: S;
  secrets: SmppSecrets;
  deps: AdapterDeps;
  /** How often stored parts are checked for completeness or timeout. */
  partsCheckIntervalMs: number;
}

/** What the adapter needs of a running link, whatever its mode. */
export interface SmppLink {
  start(): void;
  stop(): Promise<void>;
  status(): LinkStatus;
  send(msg: OutboundMessage): Promise<SendResult>;
}

/** Counters every link shows from the start, even at zero. */
const COUNTERS = ['pdusIn', 'pdusOut', 'messagesIn', 'messagesOut', 'throttled', 'receipts'] as const;

/** The shared half of a link; see the module comment. */
export abstract class SmppLinkBase<S extends SmppSettings> implements SmppLink {
  readonly counters: Counters;
  protected readonly log: Logger;
  protected readonly assembler: PartAssembler;
  protected state: LinkStatus['state'] = 'starting';
  protected lastError: string | null = null;
  private since = new Date();
  private readonly writes = new Set<Promise<void>>();
  private readonly submitting = new Set<Promise<PDU>>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping = false;

  constructor(
    protected readonly options: LinkOptions<S>,
    extraCounters: readonly string[],
  ) {
    this.counters = Object.fromEntries([...COUNTERS, ...extraCounters].map((c) => [c, 0]));
    this.log = options.deps.log.child({ component: 'smpp', linkId: options.linkId });
    this.assembler = new PartAssembler({
      linkId: options.linkId,
      deps: options.deps,
      log: this.log,
      counters: this.counters,
      decode: this.decodeOptions(),
      partsTimeoutMs: options.settings.partsTimeoutSeconds * 1000,
    });
  }

  /** Starts the link; returns at once. */
  abstract start(): void;
  /** Stops the link within a few seconds. */
  abstract stop(): Promise<void>;
  /** Sends a reply on this link. */
  abstract send(msg: OutboundMessage): Promise<SendResult>;
  /** Mode-specific status detail. */
  protected abstract detail(): Record<string, unknown>;

  /** The link's live status for administrators. */
  status(): LinkStatus {
    return {
      state: this.state,
      since: this.since.toISOString(),
      lastError: this.lastError,
      counters: { ...this.counters },
      detail: { mode: this.options.settings.mode, ...this.detail() },
    };
  }

  protected setState(state: LinkStatus['state'], error: string | null): void {
    if (state !== this.state) this.since = new Date();
    this.state = state;
    this.lastError = error;
  }

  /** Starts the periodic sweep of stored parts (and runs one now). */
  protected startSweep(): void {
    this.sweep();
    this.sweepTimer = setInterval(() => this.sweep(), this.options.partsCheckIntervalMs);
    this.sweepTimer.unref();
  }

  /** Stops the sweep and waits for assembly under way. */
  protected async stopSweep(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    await this.assembler.idle();
  }

  /** A session on `socket` with the link's flow settings, counters and inbound handler. */
  protected createSession(socket: Socket, extra: Pick<SessionOptions, 'side' | 'onBind'> & Pick<InboundContext, 'receipts' | 'answer'>): SmppSession {
    const s = this.options.settings;
    const { side, onBind, ...inbound } = extra;
    return new SmppSession(socket, {
      side,
      ...(onBind ? { onBind } : {}),
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
        decode: this.decodeOptions(),
        assembler: this.assembler,
        settleSubmissions: (outstanding) => this.settleSubmissions(outstanding),
        ...inbound,
      }),
    });
  }

  /**
   * Sends `msg` part by part with `command`, each part on the session `pick`
   * returns then (it throws a retryable ChannelSendError when none is bound).
   */
  protected sendOn(pick: () => SmppSession, command: 'submit_sm' | 'deliver_sm', registeredDelivery: number, msg: OutboundMessage): Promise<SendResult> {
    return sendSms(
      {
        linkId: this.options.linkId,
        settings: this.options.settings,
        registeredDelivery,
        db: this.options.deps.db,
        log: this.log,
        counters: this.counters,
        submit: (fields: PduOptions) => this.submit(pick, command, fields),
        track: (write) => this.track(write),
      },
      msg,
    );
  }

  private submit(pick: () => SmppSession, command: 'submit_sm' | 'deliver_sm', fields: PduOptions): Promise<PDU> {
    let request: Promise<PDU>;
    try {
      request = pick().request(command, fields, { paced: true });
    } catch (err) {
      return Promise.reject(err as Error);
    }
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

  private decodeOptions() {
    const s = this.options.settings;
    return { smscDefaultAlphabet: s.smscDefaultAlphabet, ia5Alphabet: s.ia5Alphabet };
  }
}
