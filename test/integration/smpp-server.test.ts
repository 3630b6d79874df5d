/**
 * SMS over SMPP in server mode, end to end: a real gateway (PostgreSQL,
 * Redis, BullMQ, Socket.IO) listens on a link created through the API, and
 * Kannel, a real third-party ESME, binds to it as a transceiver. Citizens'
 * texts Kannel submits reach an agent's console once each; an agent's reply
 * reaches Kannel as deliver_sm; Kannel's delivery-report requests are
 * answered. Raw sockets check refusals and malformed PDUs. No fixed sleeps.
 */
import { randomUUID } from 'node:crypto';
import net, { type Socket } from 'node:net';
import smpp, { PDU, type CommandName, type PduOptions } from 'smpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PduFramer } from '../../adapters/smpp/wire.ts';
import type { LinkStatus } from '../../src/channel.ts';
import type { ConversationView, MessageView } from '../../src/realtime/events.ts';
import { api, request, type AgentSocket, type TestGateway } from '../support/gateway.ts';
import { startSmsGateway, type SmsGateway } from '../support/sms-gateway.ts';
import { freePort, startKannel, type Kannel } from '../support/kannel.ts';
import { nextEvent, waitFor } from '../support/wait.ts';

/** A raw ESME on a socket: writes PDUs, reads every PDU the gateway sends. */
class RawEsme {
  readonly received: PDU[] = [];
  closed = false;
  private sequence = 1;
  private constructor(private readonly socket: Socket) {
    const framer = new PduFramer();
    socket.on('data', (chunk: Buffer) => {
      framer.push(chunk);
      for (let f = framer.next(); f?.kind === 'pdu'; f = framer.next()) this.received.push(new PDU(f.bytes));
    });
    socket.on('close', () => {
      this.closed = true;
    });
    socket.on('error', () => undefined);
  }

  static async connect(port: number): Promise<RawEsme> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawEsme(socket);
  }

  /** Writes raw bytes; resolves with the PDU the gateway answers under `sequence`. */
  async raw(bytes: Buffer, sequence: number): Promise<PDU> {
    this.socket.write(bytes);
    return waitFor(`an answer to #${sequence}`, () => this.received.find((p) => p.sequence_number === sequence && p.isResponse()));
  }

  send(command: CommandName, fields: PduOptions = {}): Promise<PDU> {
    const sequence = this.sequence++;
    return this.raw(new PDU(command, { ...fields, sequence_number: sequence }).toBuffer(), sequence);
  }

  nextSequence(): number {
    return this.sequence++;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A submit_sm whose sm_length (200) runs past the end of the PDU: a valid one with that octet changed. */
function truncatedSubmitSm(sequence: number): Buffer {
  const bytes = new PDU('submit_sm', { sequence_number: sequence, source_addr: '15550009999', destination_addr: '911', short_message: Buffer.from('abc') }).toBuffer();
  bytes[bytes.length - 4] = 200;
  return bytes;
}

describe('SMS over SMPP, server mode, with Kannel as the peer', () => {
  let sms: SmsGateway;
  let gw: TestGateway;
  let admin: string;
  let agent: AgentSocket;
  let kannel: Kannel | undefined;
  let port: number;
  let linkId: string;
  let conversationId: string;
  const citizen = '15551230001';

  async function statusOf(id: string): Promise<LinkStatus | undefined> {
    const res = await api<{ link: { runner: { status: LinkStatus } | null } }>(gw, 'GET', `/api/links/${id}`, { token: admin });
    return res.body.link.runner?.status;
  }

  const peersOf = (s: LinkStatus | undefined) => (s?.detail?.peers ?? []) as Array<{ address: string; bindMode: string }>;

  const messagesOf = (conversationId: string) => sms.messagesOf(conversationId);

  const storedInbound = (conversationId: string) => sms.storedInbound(conversationId);

  beforeAll(async () => {
    sms = await startSmsGateway();
    ({ gw, admin, agent } = sms);
    port = await freePort();
    const res = await api<{ link: { id: string } }>(gw, 'POST', '/api/links', {
      token: admin,
      body: {
        channel: 'sms',
        name: 'tcc',
        settings: { mode: 'server', host: '127.0.0.1', port, systemId: 'kannel', sourceAddr: '911', bindTimeoutSeconds: 1, responseTimeoutMs: 3000 },
        secrets: { password: 'secret' },
      },
    });
    expect(res.status).toBe(201);
    linkId = res.body.link.id;
    await waitFor('the link listening', async () => (await statusOf(linkId))?.state === 'connecting');
    kannel = await startKannel({ smppPort: port, systemId: 'kannel', password: 'secret' });
  }, 60_000);

  afterAll(async () => {
    await kannel?.stop();
    await sms?.close();
  });

  it('Kannel binds as a transceiver: online at Kannel, up with the peer at the gateway', async () => {
    await kannel!.waitOnline();
    const status = await waitFor('the link up', async () => {
      const s = await statusOf(linkId);
      return s?.state === 'up' ? s : undefined;
    });
    expect(status.detail).toMatchObject({ mode: 'server', listen: `127.0.0.1:${port}`, systemId: 'kannel' });
    expect(peersOf(status)).toEqual([expect.objectContaining({ bindMode: 'transceiver', address: expect.stringMatching(/^127\.0\.0\.1:\d+$/) })]);
  });

  it('delivers GSM-7 with € [ ] ~, UCS-2 with emoji and a text Kannel splits with a UDH, each once', async () => {
    const gsmText = 'Help! Man with knife at [flat 3] ~ costs €5 ok?';
    const ucsText = 'Estoy escondida 🙏 no puedo hablar — 日本語 ok';
    const longText = Array.from({ length: 5 }, (_, i) => `Line ${i + 1}: we are trapped on the third floor, smoke in the hallway.`).join(' ');
    expect(longText.length).toBeGreaterThan(160);
    const offered = nextEvent<ConversationView>(agent, 'conversation:offered', (c) => c.contact.display === citizen, 20_000);
    await kannel!.sendSms({ from: citizen, to: '911', text: gsmText });
    await kannel!.sendSms({ from: citizen, to: '911', text: ucsText, coding: 2 });
    await kannel!.sendSms({ from: citizen, to: '911', text: longText });
    const conversation = await offered;
    conversationId = conversation.id;
    const texts = await waitFor('three inbound texts', async () => {
      const inbound = (await messagesOf(conversation.id)).filter((m) => m.direction === 'inbound').map((m) => m.body);
      return inbound.length >= 3 ? inbound : undefined;
    }, 20_000);
    expect([...texts].sort()).toEqual([gsmText, ucsText, longText].sort());
    expect(await storedInbound(conversation.id)).toBe(3);
    const [parts] = await gw.store.sql<Array<{ n: number }>>`select count(*)::int as n from sms_parts where link_id = ${linkId} and assembled_message_id is not null`;
    expect(parts?.n).toBeGreaterThanOrEqual(2);
  });

  it('sends a 400-character reply that Kannel receives whole, as deliver_sm parts', async () => {
    const conversation = { id: conversationId };
    await request(agent, 'conversation:accept', { conversationId: conversation.id });
    const reply = 'Stay where you are and keep the door locked. Officers are four minutes away, stay quiet. '.repeat(5).slice(0, 400);
    expect(reply).toHaveLength(400);
    const sent = await request<MessageView>(agent, 'message:send', { conversationId: conversation.id, text: reply, clientId: randomUUID() });
    const got = await waitFor('the reply at Kannel', () => kannel!.received.find((m) => m.text === reply), 20_000);
    // dest_addr_ton 1 (international): Kannel writes the number with its '+'.
    expect(got).toMatchObject({ from: '911', to: `+${citizen}` });
    await waitFor('the reply marked sent', async () => (await messagesOf(conversation.id)).find((m) => m.id === sent.id)?.deliveryStatus === 'sent');
    expect(kannel!.received.filter((m) => m.text === reply)).toHaveLength(1);
  });

  it('sends the delivery report Kannel asked for, after the message is stored', async () => {
    const from = '15551230002';
    const offered = nextEvent<ConversationView>(agent, 'conversation:offered', (c) => c.contact.display === from, 20_000);
    await kannel!.sendSms({ from, to: '911', text: 'report please', dlrId: 'dlr-1' });
    const report = await waitFor('the delivery report', () => kannel!.reports.find((r) => r.id === 'dlr-1'), 20_000);
    expect(report.type).toBe(1); // Kannel: 1 = delivered to the phone
    const conversation = await offered;
    expect(await storedInbound(conversation.id)).toBe(1);
    // The API shows the status published with the lease, a moment behind.
    await waitFor('the receipt counted', async () => ((await statusOf(linkId))?.counters.receiptsOut ?? 0) >= 1);
  });

  it('refuses a wrong password with ESME_RBINDFAIL and closes the connection', async () => {
    const esme = await RawEsme.connect(port);
    const resp = await esme.send('bind_transceiver', { system_id: 'kannel', password: 'wrong' });
    expect(resp).toMatchObject({ command: 'bind_transceiver_resp', command_status: smpp.ESME_RBINDFAIL });
    await waitFor('the connection closed', () => esme.closed);
    expect((await statusOf(linkId))?.state).toBe('up');
  });

  it('answers requests before a bind with ESME_RINVBNDSTS and closes a connection that never binds', async () => {
    const esme = await RawEsme.connect(port);
    const resp = await esme.send('submit_sm', { source_addr: '15551230003', destination_addr: '911', short_message: Buffer.from('hi') });
    expect(resp).toMatchObject({ command: 'submit_sm_resp', command_status: smpp.ESME_RINVBNDSTS });
    expect((await esme.send('enquire_link')).command_status).toBe(smpp.ESME_ROK);
    await waitFor('the unbound connection closed', () => esme.closed, 5000);
  });

  it('answers a malformed PDU on a bound session with generic_nack and keeps the session bound', async () => {
    const esme = await RawEsme.connect(port);
    expect((await esme.send('bind_transmitter', { system_id: 'kannel', password: 'secret' })).command_status).toBe(smpp.ESME_ROK);
    const sequence = esme.nextSequence();
    const nack = await esme.raw(truncatedSubmitSm(sequence), sequence);
    expect(nack).toMatchObject({ command: 'generic_nack', command_status: smpp.ESME_RINVCMDLEN });
    expect((await esme.send('enquire_link')).command_status).toBe(smpp.ESME_ROK);
    const ok = await esme.send('submit_sm', { source_addr: '15551230004', destination_addr: '911', short_message: Buffer.from('still bound') });
    expect(ok).toMatchObject({ command: 'submit_sm_resp', command_status: smpp.ESME_ROK, message_id: expect.stringMatching(/^m\d+$/) });
    expect(esme.closed).toBe(false);
    await waitFor('both peers bound, the malformed PDU counted', async () => {
      const status = await statusOf(linkId);
      const modes = peersOf(status).map((p) => p.bindMode).sort();
      return modes.join() === 'transceiver,transmitter' && (status?.counters.malformed ?? 0) >= 1;
    });
    esme.destroy();
    await waitFor('the raw peer gone', async () => peersOf(await statusOf(linkId)).length === 1);
  });

  it('refuses a connection from an address that is not allowed', async () => {
    const otherPort = await freePort();
    const res = await api<{ link: { id: string } }>(gw, 'POST', '/api/links', {
      token: admin,
      body: { channel: 'sms', name: 'tcc-locked', settings: { mode: 'server', host: '127.0.0.1', port: otherPort, systemId: 'x', allowedAddresses: ['192.0.2.7'] }, secrets: { password: 'secret' } },
    });
    expect(res.status).toBe(201);
    await waitFor('the locked link listening', async () => (await statusOf(res.body.link.id))?.state === 'connecting');
    const esme = await RawEsme.connect(otherPort);
    await waitFor('the connection refused', () => esme.closed);
    await waitFor('the refusal counted', async () => (await statusOf(res.body.link.id))?.counters.refusedConnections === 1);
    expect((await api(gw, 'DELETE', `/api/links/${res.body.link.id}`, { token: admin })).status).toBe(204);
  });
});
