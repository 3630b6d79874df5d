/**
 * A server-mode SMPP link: a carrier, aggregator or text control centre
 * binds to the gateway, which plays the SMSC. The link listens while it runs
 * (the link supervisor's lease makes that one process per link), accepts
 * connections from the allowed addresses, and answers binds by system_id and
 * password: ESME_RBINDFAIL and a close for a wrong one, a close for a
 * connection that does not bind within `bindTimeoutSeconds`.
 *
 * A bound peer's submit_sm and data_sm are citizens' texts: answered with a
 * message_id once stored (inbound.ts), followed by a delivery receipt when
 * `registered_delivery` asks for one. Replies go to a bound peer as
 * deliver_sm (transceiver or receiver binds, in turn). The state is `up`
 * while at least one peer is bound, `connecting` while listening for one,
 * `down` when the port cannot be listened on (retried with backoff).
 */
import { timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import net, { type Socket } from 'node:net';
import tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import smpp, { type PDU } from 'smpp';
import type { OutboundMessage, SendResult } from '../types.ts';
import { ChannelSendError } from '../../src/errors.ts';
import { backoffDelay } from './client.ts';
import type { SmppServerSettings } from './config.ts';
import type { StoredRef } from './inbound.ts';
import { SmppLinkBase, type LinkOptions } from './link.ts';
import { formatDeliveryReceipt, MESSAGE_STATE_DELIVERED } from './receipt.ts';
import { statusName, type BindAnswer, type BindMode, type MessageAnswer, type SmppSession } from './session.ts';
import type { MessagePdu } from './wire.ts';

/** Everything a server link is made from. */
export type ServerLinkOptions = LinkOptions<SmppServerSettings>;

/** `::ffff:127.0.0.1` → `127.0.0.1`: IPv4 peers on a dual-stack socket. */
export function normaliseAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}

/** Compares secrets in constant time (length aside). */
function sameSecret(given: unknown, expected: string): boolean {
  const a = Buffer.from(typeof given === 'string' ? given : '', 'latin1');
  const b = Buffer.from(expected, 'latin1');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** registered_delivery asks for a final receipt on success (SMPP 3.4 §5.2.17, bits 1–0 = 01). */
const wantsReceipt = (pdu: MessagePdu) => (pdu.registeredDelivery & 0x03) === 1;

/** One server-mode link; see the module comment. */
export class SmppServerLink extends SmppLinkBase<SmppServerSettings> {
  private readonly abort = new AbortController();
  private readonly sessions = new Set<SmppSession>();
  /** Bound sessions, in bind order. */
  private readonly peers: SmppSession[] = [];
  private readonly receipts = new Set<Promise<void>>();
  private server: net.Server | undefined;
  private loop: Promise<void> = Promise.resolve();
  private turn = 0;

  constructor(options: ServerLinkOptions) {
    super(options, ['connections', 'refusedConnections', 'bindsRefused', 'receiptsOut']);
  }

  /** Starts listening (and the parts sweep); returns at once. */
  start(): void {
    this.loop = this.listen();
    this.startSweep();
  }

  /** Stops listening, unbinds the bound peers (a few seconds at most) and drops the rest. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    const server = this.server;
    this.server = undefined;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    const timeoutMs = Math.min(2000, this.options.settings.responseTimeoutMs);
    await Promise.all(
      [...this.sessions].map((s) => {
        if (s.boundAs) return s.unbind(timeoutMs);
        s.destroy('link stopped');
        return s.closed;
      }),
    );
    await closed;
    await Promise.allSettled([...this.receipts]);
    await this.stopSweep();
    this.setState('stopped', this.lastError);
    this.log.info('SMPP server link stopped');
  }

  /** Sends a reply as deliver_sm to a bound peer that receives; see outbound.ts. */
  send(msg: OutboundMessage): Promise<SendResult> {
    return this.sendOn(() => this.receivingPeer(), 'deliver_sm', 0, msg);
  }

  protected detail(): Record<string, unknown> {
    const s = this.options.settings;
    return {
      listen: `${s.host}:${s.port}`,
      tls: s.tls,
      systemId: s.systemId,
      peers: this.peers.map((p) => ({ address: p.peerAddress, bindMode: p.boundAs, outstanding: p.outstanding })),
      ...(s.allowedAddresses ? { allowedAddresses: s.allowedAddresses } : {}),
    };
  }

  /** The next bound peer a deliver_sm may go to (round robin). */
  private receivingPeer(except?: SmppSession): SmppSession {
    const receiving = this.peers.filter((p) => p.isOpen && p.boundAs !== 'transmitter' && p !== except);
    const peer = receiving[this.turn++ % Math.max(1, receiving.length)];
    if (!peer) throw new ChannelSendError(`no peer is bound to receive on SMPP link ${this.options.name}`, { retryable: true });
    return peer;
  }

  /** Listens, retrying with backoff while the port cannot be had (until stopped). */
  private async listen(): Promise<void> {
    const s = this.options.settings;
    for (let attempt = 0; !this.abort.signal.aborted; attempt++) {
      try {
        this.server = await this.openServer();
        this.setState('connecting', null);
        this.log.info({ listen: `${s.host}:${s.port}`, tls: s.tls }, 'SMPP server link listening');
        return;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        this.log.warn({ err: message, attempt }, 'SMPP server link cannot listen');
        this.setState('down', message);
      }
      try {
        await sleep(backoffDelay(attempt, 1000, 30_000), undefined, { signal: this.abort.signal });
      } catch {
        return; // stopped
      }
    }
  }

  private async openServer(): Promise<net.Server> {
    const s = this.options.settings;
    const onSocket = (socket: Socket) => this.accept(socket);
    const server =
      s.tls && s.tlsKeyPath && s.tlsCertPath
        ? tls.createServer({ key: await readFile(s.tlsKeyPath), cert: await readFile(s.tlsCertPath) }, onSocket)
        : net.createServer(onSocket);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(s.port, s.host, () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.log.warn({ err: err.message }, 'SMPP server link error'));
    if (this.abort.signal.aborted) {
      server.close();
      throw new Error('link stopped');
    }
    return server;
  }

  private accept(socket: Socket): void {
    const s = this.options.settings;
    this.counters.connections = (this.counters.connections ?? 0) + 1;
    const address = normaliseAddress(socket.remoteAddress);
    socket.on('error', () => undefined);
    if (this.abort.signal.aborted || (s.allowedAddresses && !s.allowedAddresses.includes(address))) {
      this.counters.refusedConnections = (this.counters.refusedConnections ?? 0) + 1;
      this.log.warn({ address }, 'SMPP connection from an address not allowed; closed');
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    const session: SmppSession = this.createSession(socket, {
      side: 'smsc',
      receipts: false,
      onBind: (pdu, mode) => this.checkBind(session, pdu, mode, address),
      answer: (pdu, ref) => this.answer(session, pdu, ref),
    });
    this.sessions.add(session);
    const bindTimer = setTimeout(() => {
      if (!session.boundAs) {
        this.log.info({ address }, 'SMPP connection did not bind in time; closed');
        session.destroy('no bind in time');
      }
    }, s.bindTimeoutSeconds * 1000);
    bindTimer.unref();
    void session.closed.then((reason) => {
      clearTimeout(bindTimer);
      this.sessions.delete(session);
      const index = this.peers.indexOf(session);
      if (index < 0) return;
      this.peers.splice(index, 1);
      this.log.info({ address, reason }, 'SMPP peer gone');
      if (this.peers.length === 0 && !this.abort.signal.aborted) this.setState('connecting', `last peer gone: ${reason}`);
    });
  }

  private checkBind(session: SmppSession, pdu: PDU, mode: BindMode, address: string): BindAnswer {
    const s = this.options.settings;
    const systemId = s.serverSystemId;
    const ok = pdu.system_id === s.systemId && sameSecret(pdu.password, this.options.secrets.password);
    if (!ok || this.peers.length >= s.maxPeers) {
      this.counters.bindsRefused = (this.counters.bindsRefused ?? 0) + 1;
      this.log.warn({ address, bindMode: mode, tooMany: ok }, 'SMPP bind refused');
      return { status: smpp.ESME_RBINDFAIL, systemId };
    }
    this.peers.push(session);
    session.startEnquireLink();
    this.setState('up', null);
    this.log.info({ address, bindMode: mode }, 'SMPP peer bound');
    return { status: smpp.ESME_ROK, systemId };
  }

  /** submit_sm_resp/data_sm_resp with the stored row's id, then the receipt if one was asked for. */
  private answer(session: SmppSession, pdu: MessagePdu, ref: StoredRef): MessageAnswer {
    const messageId = ref.kind === 'message' ? `m${ref.messageId}` : `p${ref.partId}`;
    const storedAt = new Date();
    return {
      status: smpp.ESME_ROK,
      messageId,
      ...(wantsReceipt(pdu) ? { afterAnswer: () => this.sendReceipt(session, pdu, messageId, storedAt) } : {}),
    };
  }

  private sendReceipt(from: SmppSession, pdu: MessagePdu, messageId: string, storedAt: Date): void {
    let target: SmppSession;
    try {
      target = from.boundAs === 'transmitter' ? this.receivingPeer() : from;
    } catch {
      this.log.warn({ messageId }, 'delivery receipt dropped: no peer bound to receive');
      return;
    }
    const sending = target
      .request(
        'deliver_sm',
        {
          source_addr_ton: pdu.destAddrTon,
          source_addr_npi: pdu.destAddrNpi,
          source_addr: pdu.destinationAddr,
          dest_addr_ton: pdu.sourceAddrTon,
          dest_addr_npi: pdu.sourceAddrNpi,
          destination_addr: pdu.sourceAddr,
          esm_class: smpp.ESM_CLASS.MC_DELIVERY_RECEIPT,
          data_coding: 0,
          short_message: Buffer.from(formatDeliveryReceipt(messageId, storedAt, new Date()), 'latin1'),
          receipted_message_id: messageId,
          message_state: MESSAGE_STATE_DELIVERED,
        },
        { paced: true },
      )
      .then(
        (resp) => {
          if (resp.command_status === smpp.ESME_ROK) this.counters.receiptsOut = (this.counters.receiptsOut ?? 0) + 1;
          else this.log.warn({ messageId, status: statusName(resp.command_status) }, 'delivery receipt refused by the peer');
        },
        (err: unknown) => this.log.warn({ messageId, err: err instanceof Error ? err.message : err }, 'delivery receipt not sent'),
      );
    this.receipts.add(sending);
    void sending.finally(() => this.receipts.delete(sending));
  }
}
