/**
 * One SMPP session over a connected socket, either side of a bind: requests
 * correlated with their responses by sequence number, each with a response
 * timeout; a window of outstanding requests; submits paced by a token bucket;
 * every inbound PDU answered; enquire_link sent and answered; unbind honoured.
 *
 * The peer is declared dead, and the socket closed, after `maxTimeouts`
 * consecutive request timeouts or one unanswered enquire_link. A PDU whose
 * body cannot be read is answered with generic_nack and the session goes on;
 * only a command_length that breaks the framing closes it (see wire.ts).
 *
 * Message PDUs go to `onMessage` and are answered with the status (and
 * message_id) it resolves to: the caller decides when a message is safe to
 * acknowledge. PDUs from one source address are handled one at a time, in
 * arrival order (a citizen's texts keep their order); different senders'
 * run concurrently, as many as the peer's window lets in, and their
 * responses may go out of order (SMPP correlates them by sequence number). Which PDUs are messages
 * depends on the side: deliver_sm and data_sm for an ESME (client mode),
 * submit_sm and data_sm for an SMSC (server mode). An SMSC-side session
 * starts unbound: bind_* goes to `onBind`, and any other request but
 * enquire_link and unbind is answered ESME_RINVBNDSTS until a bind succeeds.
 */
import type { Socket } from 'node:net';
import smpp, { PDU, type CommandName, type PduOptions } from 'smpp';
import type { Logger } from '../../src/log.ts';
export * from './session-types.ts';
import { FlowClosedError, TokenBucket, Window } from './flow.ts';
import { SmppRequestError, type BindMode, type MessageAnswer, type RequestOptions, type SessionOptions } from './session-types.ts';
import { MalformedPduError, PduFramer, RESPONSE_BIT, messageCommandOf, readMessagePdu, type Frame, type MessageCommand, type MessagePdu } from './wire.ts';

const MESSAGE_COMMANDS: Record<'esme' | 'smsc', ReadonlySet<MessageCommand>> = {
  esme: new Set(['deliver_sm', 'data_sm']),
  smsc: new Set(['submit_sm', 'data_sm']),
};

/** Requests an unbound SMSC-side session still serves. */
const UNBOUND_ALLOWED: ReadonlySet<string> = new Set(['bind_transceiver', 'bind_receiver', 'bind_transmitter', 'enquire_link', 'unbind']);

interface Pending {
  command: CommandName;
  resolve(pdu: PDU): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
  control: boolean;
}

const STATUS_NAMES = new Map<number, string>(Object.entries(smpp.errors).map(([name, code]) => [code, name]));

/** `ESME_RBINDFAIL (0x0d)`, or the bare hex code for a status the package does not name. */
export function statusName(status: number): string {
  const hex = `0x${status.toString(16).padStart(2, '0')}`;
  const name = STATUS_NAMES.get(status);
  return name ? `${name} (${hex})` : hex;
}

/** The SMPP session; see the module comment. */
export class SmppSession {
  /** Resolves with the reason once the socket has closed. */
  readonly closed: Promise<string>;
  private readonly pending = new Map<number, Pending>();
  private readonly framer = new PduFramer();
  private readonly bucket: TokenBucket;
  private readonly window: Window;
  private readonly log: Logger;
  private sequence = 0;
  private timeouts = 0;
  /** Per source address, the tail of its message handling. */
  private readonly lanes = new Map<string, Promise<void>>();
  private enquireTimer: NodeJS.Timeout | undefined;
  private closeReason: string | undefined;
  private isClosed = false;
  private markClosed!: (reason: string) => void;
  private bindMode: BindMode | undefined;
  private readonly side: 'esme' | 'smsc';

  constructor(
    private readonly socket: Socket,
    private readonly options: SessionOptions,
  ) {
    this.log = options.log;
    this.side = options.side ?? 'esme';
    this.bucket = new TokenBucket(options.throughput);
    this.window = new Window(options.window);
    this.closed = new Promise((resolve) => {
      this.markClosed = resolve;
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => {
      this.closeReason ??= err.message;
    });
    socket.on('close', () => this.onClose());
  }

  /** Requests awaiting a response. */
  get outstanding(): number {
    return this.pending.size;
  }

  /** SMSC side: how the peer bound, undefined until it has. */
  get boundAs(): BindMode | undefined {
    return this.bindMode;
  }

  /** The peer's address as `ip:port`. */
  get peerAddress(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? 0}`;
  }

  /** True once the socket has closed or is closing. */
  get isOpen(): boolean {
    return !this.isClosed && !this.socket.destroyed;
  }

  /** Sends enquire_link every `enquireLinkMs` from now on. */
  startEnquireLink(): void {
    if (this.enquireTimer || this.isClosed) return;
    this.enquireTimer = setInterval(() => {
      this.request('enquire_link', {}, { control: true }).then(
        () => undefined,
        (err: unknown) => this.log.debug({ err }, 'enquire_link failed'),
      );
    }, this.options.enquireLinkMs);
    this.enquireTimer.unref();
  }

  /**
   * Sends a request and resolves with its response, whatever its
   * command_status (generic_nack included): the caller interprets it.
   * @throws SmppRequestError on timeout, closure or a failed write (all retryable).
   */
  async request(command: CommandName, fields: PduOptions, options: RequestOptions = {}): Promise<PDU> {
    if (options.paced) await this.guard(this.bucket.take());
    if (!options.control) await this.guard(this.window.acquire());
    try {
      return await this.exchange(command, fields, options);
    } finally {
      if (!options.control) this.window.release();
    }
  }

  /** Unbinds politely (waits for unbind_resp at most `timeoutMs`), then closes. Never throws. */
  async unbind(timeoutMs: number): Promise<void> {
    if (this.isOpen) {
      await this.request('unbind', {}, { control: true, timeoutMs }).catch(() => undefined);
    }
    this.end('unbound');
    await this.closed;
  }

  /** Closes the socket gracefully (the peer sees an orderly end), destroying it a second later at most. */
  close(reason: string): void {
    this.end(reason);
  }

  /** Closes the socket at once, failing outstanding requests. */
  destroy(reason: string): void {
    this.closeReason ??= reason;
    this.socket.destroy();
  }

  private end(reason: string): void {
    this.closeReason ??= reason;
    this.socket.end();
    // A peer that never closes its side must not hold the link.
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private async guard(wait: Promise<void>): Promise<void> {
    try {
      await wait;
    } catch (err) {
      if (err instanceof FlowClosedError) throw new SmppRequestError(`session closed: ${this.closeReason ?? 'closed'}`, 'closed');
      throw err;
    }
  }

  private exchange(command: CommandName, fields: PduOptions, options: RequestOptions): Promise<PDU> {
    if (!this.isOpen) return Promise.reject(new SmppRequestError(`session closed: ${this.closeReason ?? 'closed'}`, 'closed'));
    this.sequence = this.sequence >= 0x7fffffff ? 1 : this.sequence + 1;
    const sequence = this.sequence;
    let bytes: Buffer;
    try {
      bytes = new PDU(command, { ...fields, sequence_number: sequence }).toBuffer();
    } catch (err) {
      return Promise.reject(new SmppRequestError(`could not build ${command}: ${(err as Error).message}`, 'write', false));
    }
    return new Promise<PDU>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.options.responseTimeoutMs;
      const timer = setTimeout(() => this.onTimeout(sequence), timeoutMs);
      this.pending.set(sequence, { command, resolve, reject, timer, control: options.control ?? false });
      this.write(bytes);
    });
  }

  private onTimeout(sequence: number): void {
    const entry = this.pending.get(sequence);
    if (!entry) return;
    this.pending.delete(sequence);
    this.timeouts += 1;
    entry.reject(new SmppRequestError(`no ${entry.command}_resp within the response timeout`, 'timeout'));
    const max = this.options.maxTimeouts ?? 3;
    if (entry.command === 'enquire_link' || this.timeouts >= max) {
      this.log.warn({ command: entry.command, timeouts: this.timeouts }, 'peer not responding; closing the session');
      this.destroy(entry.command === 'enquire_link' ? 'no enquire_link_resp' : `${this.timeouts} responses timed out`);
    }
  }

  private write(bytes: Buffer): void {
    if (!this.isOpen) return;
    this.options.counters.pdusOut = (this.options.counters.pdusOut ?? 0) + 1;
    this.socket.write(bytes);
  }

  private respond(command: CommandName, sequence: number, status: number, fields: PduOptions = {}): void {
    this.write(new PDU(command, { ...fields, sequence_number: sequence, command_status: status }).toBuffer());
  }

  private nack(sequence: number, status: number): void {
    this.respond('generic_nack', sequence, status);
  }

  private onData(chunk: Buffer): void {
    this.framer.push(chunk);
    for (let frame: Frame | undefined = this.framer.next(); frame; frame = this.framer.next()) {
      this.options.counters.pdusIn = (this.options.counters.pdusIn ?? 0) + 1;
      if (frame.kind === 'bad-length') {
        this.log.warn({ length: frame.length }, 'PDU with an impossible command_length; closing the session');
        this.options.counters.malformed = (this.options.counters.malformed ?? 0) + 1;
        this.nack(frame.sequence ?? 0, smpp.ESME_RINVCMDLEN);
        this.end('unreadable PDU stream');
        return;
      }
      this.dispatch(frame.header.commandId, frame.header.sequence, frame.bytes);
    }
  }

  private dispatch(commandId: number, sequence: number, bytes: Buffer): void {
    const messageCommand = messageCommandOf(commandId);
    if (messageCommand && MESSAGE_COMMANDS[this.side].has(messageCommand)) {
      if (this.side === 'smsc' && !this.bindMode) {
        this.respond(`${messageCommand}_resp`, sequence, smpp.ESME_RINVBNDSTS);
        return;
      }
      let message: MessagePdu;
      try {
        message = readMessagePdu(bytes);
      } catch (err) {
        this.malformed(sequence, err);
        return;
      }
      const lane = message.sourceAddr;
      const next = (this.lanes.get(lane) ?? Promise.resolve()).then(() => this.handleMessage(message));
      this.lanes.set(lane, next);
      void next.then(() => {
        if (this.lanes.get(lane) === next) this.lanes.delete(lane);
      });
      return;
    }
    let pdu: PDU;
    try {
      pdu = new PDU(bytes);
    } catch (err) {
      if (commandId & RESPONSE_BIT) this.failPending(sequence, `unreadable response: ${(err as Error).message}`);
      else this.malformed(sequence, err);
      return;
    }
    if (pdu.isResponse()) this.onResponse(pdu);
    else this.onRequest(pdu);
  }

  private malformed(sequence: number, err: unknown): void {
    this.options.counters.malformed = (this.options.counters.malformed ?? 0) + 1;
    this.log.warn({ err: err instanceof MalformedPduError ? err.message : err, sequence }, 'malformed PDU answered with generic_nack');
    this.nack(sequence, smpp.ESME_RINVCMDLEN);
  }

  private async handleMessage(message: MessagePdu): Promise<void> {
    let answer: MessageAnswer;
    try {
      const result = await this.options.onMessage(message);
      answer = typeof result === 'number' ? { status: result } : result;
    } catch (err) {
      this.log.error({ err }, 'message handler failed');
      answer = { status: smpp.ESME_RX_T_APPN };
    }
    const fields = answer.status === smpp.ESME_ROK && answer.messageId !== undefined ? { message_id: answer.messageId } : {};
    this.respond(`${message.command}_resp`, message.sequence, answer.status, fields);
    answer.afterAnswer?.();
  }

  private onBindRequest(pdu: PDU, mode: BindMode): void {
    if (this.bindMode) {
      this.write(pdu.response({ command_status: smpp.ESME_RALYBND }).toBuffer());
      return;
    }
    const answer = this.options.onBind?.(pdu, mode) ?? { status: smpp.ESME_RBINDFAIL, systemId: '' };
    const ok = answer.status === smpp.ESME_ROK;
    this.write(pdu.response(ok ? { system_id: answer.systemId } : { command_status: answer.status }).toBuffer());
    if (ok) this.bindMode = mode;
    else this.end('bind refused');
  }

  private onRequest(pdu: PDU): void {
    if (this.side === 'smsc' && !this.bindMode && !UNBOUND_ALLOWED.has(pdu.command)) {
      this.write(pdu.response({ command_status: smpp.ESME_RINVBNDSTS }).toBuffer());
      return;
    }
    switch (pdu.command) {
      case 'bind_transceiver':
      case 'bind_receiver':
      case 'bind_transmitter':
        if (this.side === 'smsc') {
          this.onBindRequest(pdu, pdu.command.slice('bind_'.length) as BindMode);
          return;
        }
        break;
      case 'enquire_link':
        this.write(pdu.response().toBuffer());
        return;
      case 'unbind':
        this.write(pdu.response().toBuffer());
        this.log.info('peer unbound');
        this.end('unbound by peer');
        return;
      case 'alert_notification':
      case 'outbind':
        return; // no response is defined for these
    }
    // 'unknown' becomes generic_nack ESME_RINVCMDID; a known command we do not serve gets its *_resp.
    this.write(pdu.response({ command_status: smpp.ESME_RINVCMDID }).toBuffer());
  }

  private onResponse(pdu: PDU): void {
    const entry = this.pending.get(pdu.sequence_number);
    if (!entry) {
      this.log.debug({ command: pdu.command, sequence: pdu.sequence_number }, 'response to no outstanding request');
      return;
    }
    this.pending.delete(pdu.sequence_number);
    clearTimeout(entry.timer);
    this.timeouts = 0;
    entry.resolve(pdu);
  }

  private failPending(sequence: number, message: string): void {
    const entry = this.pending.get(sequence);
    if (!entry) return;
    this.pending.delete(sequence);
    clearTimeout(entry.timer);
    entry.reject(new SmppRequestError(message, 'write'));
  }

  private onClose(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.enquireTimer) clearInterval(this.enquireTimer);
    const reason = this.closeReason ?? 'connection closed by peer';
    const err = new SmppRequestError(`session closed: ${reason}`, 'closed');
    this.bucket.close(new FlowClosedError(reason));
    this.window.close(new FlowClosedError(reason));
    for (const entry of this.pending.values()) {
      clearTimeout(entry.timer);
      entry.reject(err);
    }
    this.pending.clear();
    this.markClosed(reason);
  }
}
