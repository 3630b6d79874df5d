/**
 * A small fake carrier SMSC for the gateway's client mode, built on the
 * `smpp` package's own server (a real protocol peer on a loopback port). It
 * accepts binds with one system_id/password (ESME_RBINDFAIL otherwise),
 * records every submit_sm and answers it with an id, sends deliver_sm (text,
 * parts, receipts, raw bytes) and waits for the answer, can be stopped and
 * restarted on the same port, can hold back submit_sm responses, answer
 * submits with a chosen status, or go silent altogether.
 */
import type { AddressInfo } from 'node:net';
import smpp, { type PDU, type PduOptions, type SecureServer, type Server, type Session } from 'smpp';
import { waitFor } from './wait.ts';

/** One submit_sm as the SMSC read it (the body through the package's decoder). */
export interface RecordedSubmit {
  /** Which bind of this SMSC (1-based) carried it. */
  bind: number;
  sourceAddr: string;
  destinationAddr: string;
  dataCoding: number;
  esmClass: number;
  registeredDelivery: number;
  /** UDH information elements as `[iei, length, ...data]`. */
  udh: Buffer[];
  /** The text after the UDH. */
  text: string;
  /** The id returned in submit_sm_resp (absent when refused). */
  messageId?: string;
  status: number;
}

export interface FakeSmscOptions {
  systemId: string;
  password: string;
  /** PEM key and certificate: TLS instead of plain TCP. */
  tls?: { key: string; cert: string };
}

export class FakeSmsc {
  /** Every submit_sm received, across restarts. */
  readonly submits: RecordedSubmit[] = [];
  /** Bind attempts, successful or not. */
  readonly binds: Array<{ systemId: string; ok: boolean }> = [];
  /** Unbind requests received from the gateway. */
  unbinds = 0;
  /** TCP (or TLS) connections accepted. */
  connections = 0;
  /** Statuses to answer the next submits with, in order (ESME_ROK once empty). */
  readonly submitStatuses: number[] = [];
  /** When true, submit_sm responses are kept until {@link releaseResponses}. */
  holdResponses = false;
  /** When true, nothing is answered at all (not even enquire_link). */
  silent = false;
  port = 0;
  private server: Server | SecureServer | undefined;
  private readonly sessions = new Set<Session>();
  private bound: Session | undefined;
  /** Open sessions that completed a bind. */
  private readonly boundSessions = new Set<Session>();
  private held: Array<() => void> = [];
  private nextId = 0x5000;
  private nextSequence = 1000;

  private constructor(private readonly options: FakeSmscOptions) {}

  static async start(options: FakeSmscOptions): Promise<FakeSmsc> {
    const smsc = new FakeSmsc(options);
    await smsc.listen(0);
    return smsc;
  }

  /** Successful binds so far. */
  get boundCount(): number {
    return this.binds.filter((b) => b.ok).length;
  }

  /** Sessions bound now: a link is bound by one process at a time, so more than one means two holders. */
  get openBinds(): number {
    return this.boundSessions.size;
  }

  /** Listens again on the same port after {@link stop}. */
  restart(): Promise<void> {
    return this.listen(this.port);
  }

  /** Closes the listener and drops every connection at once (a crash, as the ESME sees it). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.bound = undefined;
    this.held = [];
    for (const s of this.sessions) s.destroy();
    this.sessions.clear();
    this.boundSessions.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Sends the held submit_sm responses. */
  releaseResponses(): void {
    for (const send of this.held.splice(0)) send();
  }

  /** Resolves once a bind succeeded beyond `count` binds. */
  waitForBind(count = this.boundCount, timeoutMs = 10_000): Promise<Session> {
    return waitFor(`bind #${count + 1}`, () => this.boundCount > count && this.bound, timeoutMs);
  }

  /** Sends a deliver_sm (or data_sm) on the bound session; resolves with the gateway's answer. */
  deliver(fields: PduOptions, command: 'deliver_sm' | 'data_sm' = 'deliver_sm', timeoutMs = 10_000): Promise<PDU> {
    const session = this.bound;
    if (!session) return Promise.reject(new Error('no bound session'));
    const sequence = fields.sequence_number ?? this.nextSequence++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${command} #${sequence}`)), timeoutMs);
      const pdu = new smpp.PDU(command, { data_coding: 0, esm_class: 0, ...fields, sequence_number: sequence });
      session.send(pdu, (resp) => {
        clearTimeout(timer);
        resolve(resp);
      });
    });
  }

  /** A one-part text from a citizen. */
  text(from: string, bytes: Buffer, dataCoding: number, extra: PduOptions = {}): Promise<PDU> {
    return this.deliver({ source_addr: from, destination_addr: '911', data_coding: dataCoding, short_message: bytes, ...extra });
  }

  /** A delivery receipt for a recorded submit; the id written in decimal when the SMSC answered in hex. */
  receipt(submit: RecordedSubmit, stat: 'DELIVRD' | 'UNDELIV' = 'DELIVRD', options: { decimalId?: boolean } = {}): Promise<PDU> {
    const id = options.decimalId ? BigInt(`0x${submit.messageId}`).toString(10) : (submit.messageId ?? '');
    const text = `id:${id} sub:001 dlvrd:${stat === 'DELIVRD' ? '001' : '000'} submit date:2401011200 done date:2401011201 stat:${stat} err:000 text:`;
    return this.deliver({
      source_addr: submit.destinationAddr,
      destination_addr: submit.sourceAddr,
      esm_class: smpp.ESM_CLASS.MC_DELIVERY_RECEIPT,
      short_message: Buffer.from(text, 'latin1'),
    });
  }

  /** Unbinds the bound session from the SMSC's side; resolves with the gateway's unbind_resp. */
  unbindBound(timeoutMs = 10_000): Promise<PDU> {
    const session = this.bound;
    if (!session) return Promise.reject(new Error('no bound session'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no unbind_resp')), timeoutMs);
      session.unbind((resp) => {
        clearTimeout(timer);
        resolve(resp);
      });
    });
  }

  /** Writes raw bytes to the bound session; resolves with the PDU the gateway answers under `sequence`. */
  sendRaw(bytes: Buffer, sequence: number, timeoutMs = 10_000): Promise<PDU> {
    const session = this.bound;
    if (!session) return Promise.reject(new Error('no bound session'));
    return new Promise((resolve, reject) => {
      const onPdu = (pdu: PDU) => {
        if (pdu.sequence_number !== sequence || !pdu.isResponse()) return;
        clearTimeout(timer);
        session.removeListener('pdu', onPdu);
        resolve(pdu);
      };
      const timer = setTimeout(() => {
        session.removeListener('pdu', onPdu);
        reject(new Error(`no answer to raw PDU #${sequence}`));
      }, timeoutMs);
      session.on('pdu', onPdu);
      session.socket.write(bytes);
    });
  }

  private async listen(port: number): Promise<void> {
    const server = this.options.tls ? smpp.createServer({ key: this.options.tls.key, cert: this.options.tls.cert }) : smpp.createServer();
    server.on('session', (session: Session) => this.accept(session));
    server.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  private accept(session: Session): void {
    this.sessions.add(session);
    this.connections += 1;
    let bindNumber = 0;
    session.on('error', () => undefined);
    session.on('close', () => {
      this.sessions.delete(session);
      this.boundSessions.delete(session);
      if (this.bound === session) this.bound = undefined;
    });
    const onBind = (pdu: PDU) => {
      if (this.silent) return;
      const ok = pdu.system_id === this.options.systemId && pdu.password === this.options.password;
      this.binds.push({ systemId: String(pdu.system_id), ok });
      if (!ok) {
        session.send(pdu.response({ command_status: smpp.ESME_RBINDFAIL }));
        return;
      }
      bindNumber = this.boundCount;
      this.bound = session;
      this.boundSessions.add(session);
      session.send(pdu.response({ system_id: 'FAKESMSC' }));
    };
    session.on('bind_transceiver', onBind);
    session.on('bind_transmitter', onBind);
    session.on('bind_receiver', onBind);
    session.on('enquire_link', (pdu) => {
      if (!this.silent) session.send(pdu.response());
    });
    session.on('unbind', (pdu) => {
      this.unbinds += 1;
      session.send(pdu.response());
      session.close();
    });
    session.on('submit_sm', (pdu) => {
      if (this.silent) return;
      const status = this.submitStatuses.shift() ?? smpp.ESME_ROK;
      const body = pdu.short_message as { udh?: Buffer[]; message: string | Buffer } | undefined;
      const messageId = status === smpp.ESME_ROK ? (this.nextId++).toString(16).toUpperCase() : undefined;
      this.submits.push({
        bind: bindNumber,
        sourceAddr: String(pdu.source_addr),
        destinationAddr: String(pdu.destination_addr),
        dataCoding: pdu.data_coding ?? 0,
        esmClass: pdu.esm_class ?? 0,
        registeredDelivery: pdu.registered_delivery ?? 0,
        udh: body?.udh ?? [],
        text: typeof body?.message === 'string' ? body.message : (body?.message.toString('latin1') ?? ''),
        ...(messageId ? { messageId } : {}),
        status,
      });
      const answer = () => session.send(pdu.response(messageId ? { message_id: messageId } : { command_status: status }));
      if (this.holdResponses) this.held.push(answer);
      else answer();
    });
  }
}

/** The concatenation element of a recorded submit: `{ reference, total, sequence }`, or undefined. */
export function concatOf(submit: RecordedSubmit): { reference: number; total: number; sequence: number } | undefined {
  const ie = submit.udh.find((e) => e[0] === 0x00 && e[1] === 3);
  return ie ? { reference: ie[2] as number, total: ie[3] as number, sequence: ie[4] as number } : undefined;
}
