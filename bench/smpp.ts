/**
 * The SMPP side of `npm run bench`: a server-mode link created through the
 * admin API, and a raw ESME on a socket bound as a transmitter that submits
 * texts with a window of outstanding submit_sm (the submit_sm_resp is sent
 * only after the commit). A Sender for the harness's load shapes: the
 * measured texts reach the agent sockets as `message:new`, like the web
 * chat's.
 */
import net, { type Socket } from 'node:net';
import type postgres from 'postgres';
import { PDU } from 'smpp';
import { PduFramer } from '../adapters/smpp/wire.ts';
import { api } from '../test/support/gateway.ts';
import { freePort } from '../test/support/kannel.ts';
import { waitFor } from '../test/support/wait.ts';
import type { Sender } from './harness.ts';

/** A raw ESME: one bind, a window of outstanding submit_sm, responses matched by sequence number. */
export class PipelinedEsme {
  private readonly waiting = new Map<number, (status: number) => void>();
  private sequence = 0;

  private constructor(private readonly socket: Socket) {
    const framer = new PduFramer();
    socket.on('data', (chunk: Buffer) => {
      framer.push(chunk);
      for (let f = framer.next(); f?.kind === 'pdu'; f = framer.next()) {
        const { commandId, sequence, status } = f.header;
        if (commandId & 0x80000000) {
          this.waiting.get(sequence)?.(status);
          this.waiting.delete(sequence);
        } else if (commandId === 0x15) {
          socket.write(new PDU('enquire_link_resp', { sequence_number: sequence }).toBuffer());
        }
      }
    });
    socket.on('error', () => undefined);
  }

  static async bind(port: number, systemId: string, password: string): Promise<PipelinedEsme> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.setNoDelay(true);
    const esme = new PipelinedEsme(socket);
    const status = await esme.send(new PDU('bind_transmitter', { system_id: systemId, password, interface_version: 0x34 }));
    if (status !== 0) throw new Error(`bench bind refused: 0x${status.toString(16)}`);
    return esme;
  }

  /** Requests sent and not yet answered. */
  get outstanding(): number {
    return this.waiting.size;
  }

  send(pdu: PDU): Promise<number> {
    this.sequence += 1;
    pdu.sequence_number = this.sequence;
    const answered = new Promise<number>((resolve) => this.waiting.set(this.sequence, resolve));
    this.socket.write(pdu.toBuffer());
    return answered;
  }

  /** Sends `count` texts keeping `window` outstanding; `onAck(index, status)` per response. */
  async push(count: number, window: number, build: (index: number) => PDU, onSend: (index: number) => void, onAck: (index: number, status: number) => void): Promise<void> {
    let next = 0;
    const lane = async () => {
      while (next < count) {
        const index = next++;
        onSend(index);
        onAck(index, await this.send(build(index)));
      }
    };
    await Promise.all(Array.from({ length: Math.min(window, count) }, lane));
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A submit_sm from `from` to 911 with a latin-1 text. */
export const submit = (from: string, text: string) =>
  new PDU('submit_sm', { source_addr_ton: 1, source_addr_npi: 1, source_addr: from, destination_addr: '911', data_coding: 0, short_message: Buffer.from(text, 'latin1') });

/** The SMPP bench citizens' numbers (the burst uses its own range). */
const citizenOf = (i: number) => `1555900${String(i).padStart(4, '0')}`;

/** Texts spread round-robin over `citizens` numbers, at most `window` submit_sm outstanding. */
export function smppSender(esme: PipelinedEsme, citizens: number, window: number): Sender {
  return {
    trySend(seq, text, onAck) {
      if (esme.outstanding >= window) return undefined;
      const citizen = seq % citizens;
      esme.send(submit(citizenOf(citizen), text)).then((status) => onAck(status === 0, status === 0 ? undefined : `command_status 0x${status.toString(16)}`));
      return citizen;
    },
    msUntilReady: () => 1,
  };
}

/**
 * Creates a server-mode SMPP link through the admin API, binds the ESME and
 * opens one conversation per citizen (their first text), waiting until the
 * fleet's agents, which accept every offer, have accepted them all.
 */
export async function setUpSmpp(gateway: { url: string }, sql: postgres.Sql, adminToken: string, citizens: number): Promise<PipelinedEsme> {
  const port = await freePort();
  const created = await api<{ link: { id: string } }>(gateway, 'POST', '/api/links', {
    token: adminToken,
    body: { channel: 'sms', name: 'bench-tcc', settings: { mode: 'server', host: '127.0.0.1', port, systemId: 'bench', window: 100 }, secrets: { password: 'bench' } },
  });
  if (created.status !== 201) throw new Error(`creating the bench SMPP link: ${created.status} ${JSON.stringify(created.body)}`);
  const esme = await waitFor('the bench ESME bound', () => PipelinedEsme.bind(port, 'bench', 'bench'), 15_000, 100);
  await esme.push(citizens, 10, (i) => submit(citizenOf(i), `smpp bench citizen ${i}: I need help`), () => undefined, () => undefined);
  await waitFor(
    `${citizens} SMS conversations accepted`,
    async () => {
      const [row] = await sql<Array<{ n: number }>>`select count(*)::int as n from conversations where channel = 'sms' and status = 'active'`;
      return (row?.n ?? 0) >= citizens;
    },
    60_000,
    100,
  );
  return esme;
}
