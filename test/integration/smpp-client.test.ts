/**
 * SMS over SMPP in client mode, end to end: a real gateway (PostgreSQL,
 * Redis, BullMQ, Socket.IO) binds to a fake carrier SMSC built on the `smpp`
 * package's server; an agent's console sees what citizens text, and replies
 * arrive at the SMSC as submit_sm. No fixed sleeps: every wait has a deadline.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import smpp from 'smpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeText } from '../../adapters/smpp/encoding.ts';
import { describeSms, splitSms } from '../../adapters/smpp/split.ts';
import type { LinkStatus } from '../../src/channel.ts';
import type { ConversationView, MessageView } from '../../src/realtime/events.ts';
import { api, request, type AgentSocket, type TestGateway } from '../support/gateway.ts';
import { startSmsGateway, type SmsGateway } from '../support/sms-gateway.ts';
import { concatOf, FakeSmsc, type RecordedSubmit } from '../support/smsc.ts';
import { nextEvent, waitFor } from '../support/wait.ts';

const gsm = (text: string) => encodeText(text, 0);
const ucs2 = (text: string) => encodeText(text, 8);
const msisdn = (n: number) => `1555000${String(n).padStart(4, '0')}`;

/** A deliver_sm whose sm_length (200) runs past the end of the PDU. */
function truncatedDeliverSm(sequence: number): Buffer {
  const body = Buffer.concat([
    Buffer.from([0]), // service_type
    Buffer.from([1, 1]),
    Buffer.from('15550009999\0', 'latin1'),
    Buffer.from([0, 0]),
    Buffer.from('911\0', 'latin1'),
    Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0]), // esm_class .. sm_default_msg_id, with both times empty
    Buffer.from([200]),
    Buffer.from('abc', 'latin1'),
  ]);
  return withHeader(0x00000005, sequence, body);
}

function withHeader(commandId: number, sequence: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(16);
  header.writeUInt32BE(16 + body.length, 0);
  header.writeUInt32BE(commandId, 4);
  header.writeUInt32BE(0, 8);
  header.writeUInt32BE(sequence, 12);
  return Buffer.concat([header, body]);
}

describe('SMS over SMPP, client mode', () => {
  let smsc: FakeSmsc;
  let sms: SmsGateway;
  let gw: TestGateway;
  let admin: string;
  let agent: AgentSocket;
  let linkId: string;

  const settings = (port: number, over: Record<string, unknown> = {}) => ({
    mode: 'client',
    host: '127.0.0.1',
    port,
    systemId: 'psap',
    sourceAddr: '911',
    enquireLinkSeconds: 1,
    responseTimeoutMs: 1000,
    reconnectMinMs: 50,
    reconnectMaxMs: 300,
    partsTimeoutSeconds: 60,
    ...over,
  });

  async function createLink(name: string, body: Record<string, unknown>, password = 'secret'): Promise<string> {
    const res = await api<{ link: { id: string } }>(gw, 'POST', '/api/links', { token: admin, body: { channel: 'sms', name, settings: body, secrets: { password } } });
    expect(res.status).toBe(201);
    return res.body.link.id;
  }

  async function statusOf(id: string): Promise<LinkStatus | undefined> {
    const res = await api<{ link: { runner: { status: LinkStatus } | null } }>(gw, 'GET', `/api/links/${id}`, { token: admin });
    return res.body.link.runner?.status;
  }

  const offerFor = (from: string) => nextEvent<ConversationView>(agent, 'conversation:offered', (c) => c.contact.display === from, 15_000);

  const messagesOf = (conversationId: string) => sms.messagesOf(conversationId);

  async function inboundTexts(conversationId: string, count: number): Promise<string[]> {
    return waitFor(`${count} inbound texts`, async () => {
      const texts = (await messagesOf(conversationId)).filter((m) => m.direction === 'inbound').map((m) => m.body);
      return texts.length >= count ? texts : undefined;
    }, 15_000);
  }

  const storedInbound = (conversationId: string) => sms.storedInbound(conversationId);

  const submitsOf = (messageId: number) => smsc.submits.filter((s) => s.status === 0 && (concatOf(s)?.reference ?? -1) === messageId % 256);
  const submitsWithText = (text: string) => smsc.submits.filter((s) => s.status === 0 && s.text === text);

  beforeAll(async () => {
    smsc = await FakeSmsc.start({ systemId: 'psap', password: 'secret' });
    sms = await startSmsGateway();
    ({ gw, admin, agent } = sms);
  });

  afterAll(async () => {
    await sms?.close();
    await smsc?.stop();
  });

  it('binds a link created through the API and shows it up with its counters', async () => {
    linkId = await createLink('carrier', settings(smsc.port));
    const status = await waitFor('the link up', async () => {
      const s = await statusOf(linkId);
      return s?.state === 'up' ? s : undefined;
    });
    expect(status.lastError).toBeNull();
    expect(status.detail).toMatchObject({ mode: 'client', bindMode: 'transceiver', peer: `127.0.0.1:${smsc.port}`, smscSystemId: 'FAKESMSC' });
    expect(Object.keys(status.counters)).toEqual(expect.arrayContaining(['pdusIn', 'pdusOut', 'messagesIn', 'messagesOut', 'throttled', 'receipts', 'reconnects']));
    expect(smsc.boundCount).toBe(1);
  });

  it('shows a refused bind (ESME_RBINDFAIL) as down with the error, and keeps retrying', async () => {
    const refusedBefore = smsc.binds.filter((b) => !b.ok).length;
    const id = await createLink('carrier-wrong-password', settings(smsc.port), 'wrong');
    const status = await waitFor('the bind refused, retried', async () => {
      const s = await statusOf(id);
      return s?.state === 'down' && /ESME_RBINDFAIL/.test(s.lastError ?? '') && (s.counters.reconnects ?? 0) >= 2 ? s : undefined;
    });
    expect(status.detail).toMatchObject({ bindMode: 'transceiver' });
    expect(smsc.binds.filter((b) => !b.ok).length).toBeGreaterThanOrEqual(refusedBefore + 2);
    expect((await api(gw, 'DELETE', `/api/links/${id}`, { token: admin })).status).toBe(204);
  });

  it('delivers GSM-7 with extension characters, UCS-2 with emoji and a three-part message sent out of order with a repeat, each once', async () => {
    const from = msisdn(1);
    const gsmText = 'Help! Man with knife at {Main St} [flat 3] ~ costs €5 | ^ \\ ok?';
    const ucsText = 'Estoy escondida 🙏 no puedo hablar — 日本語 ok';
    const longText = Array.from({ length: 6 }, (_, i) => `Line ${i + 1}: we are trapped on the third floor, smoke in the hallway.`).join(' ');
    const offered = offerFor(from);
    expect((await smsc.text(from, gsm(gsmText), 0)).command_status).toBe(smpp.ESME_ROK);
    expect((await smsc.text(from, ucs2(ucsText), 8)).command_status).toBe(smpp.ESME_ROK);
    const long = splitSms(longText, { reference: 0x42 });
    expect(long.parts).toHaveLength(3);
    for (const index of [2, 0, 0, 1]) {
      const resp = await smsc.text(from, long.parts[index] as Buffer, long.dataCoding, { esm_class: long.esmClass });
      expect(resp.command_status).toBe(smpp.ESME_ROK);
    }
    const payloadText = 'Sent as data_sm with a message_payload: 🆘 ' + 'ok '.repeat(60).trim();
    const dataSm = await smsc.deliver({ source_addr: from, destination_addr: '911', data_coding: 8, message_payload: ucs2(payloadText) }, 'data_sm');
    expect(dataSm).toMatchObject({ command: 'data_sm_resp', command_status: smpp.ESME_ROK });
    const conversation = await offered;
    // The concatenated message is assembled after its last part is acknowledged: it may land after the data_sm.
    expect((await inboundTexts(conversation.id, 4)).sort()).toEqual([gsmText, ucsText, longText, payloadText].sort());
    expect(await storedInbound(conversation.id)).toBe(4);
    const [parts] = await gw.store.sql<Array<{ n: number }>>`select count(*)::int as n from sms_parts where source = ${from}`;
    expect(parts?.n).toBe(3);
  });

  it('stores a message the carrier re-sends after a lost deliver_sm_resp once, and a citizen repeating a text twice', async () => {
    const from = msisdn(2);
    const offered = offerFor(from);
    const words = gsm('I am hiding in the closet');
    expect((await smsc.text(from, words, 0, { sequence_number: 4242 })).command_status).toBe(0);
    // The carrier never saw that answer and sends the same PDU again.
    expect((await smsc.text(from, words, 0, { sequence_number: 4242 })).command_status).toBe(0);
    const conversation = await offered;
    expect(await inboundTexts(conversation.id, 1)).toEqual(['I am hiding in the closet']);
    expect(await storedInbound(conversation.id)).toBe(1);

    // A concatenated message re-sent whole after it was assembled.
    const long = splitSms('Please hurry. '.repeat(20), { reference: 7 });
    const sendAll = async () => {
      for (const part of long.parts) expect((await smsc.text(from, part, 0, { esm_class: long.esmClass })).command_status).toBe(0);
    };
    await sendAll();
    await waitFor('the parts assembled', async () => {
      const [row] = await gw.store.sql<Array<{ n: number }>>`select count(*)::int as n from sms_parts where source = ${from} and assembled_message_id is not null`;
      return row?.n === long.parts.length;
    });
    await sendAll();
    expect(await storedInbound(conversation.id)).toBe(2);

    // The same words again from the citizen come under a new sequence number: kept.
    expect((await smsc.text(from, gsm('help'), 0)).command_status).toBe(0);
    expect((await smsc.text(from, gsm('help'), 0)).command_status).toBe(0);
    expect((await inboundTexts(conversation.id, 4)).filter((t) => t === 'help')).toHaveLength(2);
  });

  it('sends a long reply as three GSM-7 parts with a concatenation UDH and a UCS-2 reply in parts; receipts for every part make it delivered', async () => {
    const from = msisdn(3);
    const offered = offerFor(from);
    await smsc.text(from, gsm('need help'), 0);
    const conversation = await offered;
    await request(agent, 'conversation:accept', { conversationId: conversation.id });

    const reply = 'Stay where you are and keep the door locked. Officers are 4 minutes away; costs €0. '.repeat(5).slice(0, 400);
    expect(describeSms(reply)).toMatchObject({ encoding: 'GSM-7', parts: 3 });
    const sent = await request<MessageView>(agent, 'message:send', { conversationId: conversation.id, text: reply, clientId: randomUUID() });
    const parts = await waitFor('three parts at the SMSC', () => (submitsOf(sent.id).length >= 3 ? submitsOf(sent.id) : undefined));
    expect(parts).toHaveLength(3);
    const ordered = [...parts].sort((a, b) => (concatOf(a)?.sequence ?? 0) - (concatOf(b)?.sequence ?? 0));
    expect(ordered.map(concatOf)).toEqual([1, 2, 3].map((sequence) => ({ reference: sent.id % 256, total: 3, sequence })));
    for (const p of ordered) {
      expect(p).toMatchObject({ dataCoding: 0, esmClass: 0x40, registeredDelivery: 1, sourceAddr: '911', destinationAddr: from });
    }
    expect(ordered.map((p) => p.text).join('')).toBe(reply);

    await waitFor('the reply sent', async () => (await messagesOf(conversation.id)).find((m) => m.id === sent.id)?.deliveryStatus === 'sent');
    const delivered = nextEvent<{ id: number; status: string }>(agent, 'message:status', (s) => s.id === sent.id && s.status === 'delivered');
    const [first, second, third] = ordered as [RecordedSubmit, RecordedSubmit, RecordedSubmit];
    expect((await smsc.receipt(first)).command_status).toBe(0);
    expect((await smsc.receipt(second, 'DELIVRD', { decimalId: true })).command_status).toBe(0);
    expect((await messagesOf(conversation.id)).find((m) => m.id === sent.id)?.deliveryStatus).toBe('sent');
    expect((await smsc.receipt(third)).command_status).toBe(0);
    await delivered;

    const unicode = 'Una ambulancia va en camino 🚑 quédese donde está, no cuelgue. '.repeat(3).trim();
    const shape = describeSms(unicode);
    expect(shape).toMatchObject({ encoding: 'UCS-2' });
    expect(shape.parts).toBeGreaterThan(1);
    const sent2 = await request<MessageView>(agent, 'message:send', { conversationId: conversation.id, text: unicode, clientId: randomUUID() });
    const parts2 = await waitFor('the UCS-2 parts at the SMSC', () => (submitsOf(sent2.id).length >= shape.parts ? submitsOf(sent2.id) : undefined));
    expect(parts2).toHaveLength(shape.parts);
    expect(parts2.every((p) => p.dataCoding === 8 && p.esmClass === 0x40)).toBe(true);
    const joined = [...parts2].sort((a, b) => (concatOf(a)?.sequence ?? 0) - (concatOf(b)?.sequence ?? 0)).map((p) => p.text);
    expect(joined.join('')).toBe(unicode);
  });

  it('files an international sender (TON 1) under its E.164 number, the contact its calls use, and replies to the bare digits', async () => {
    const digits = '447700900555';
    const offered = nextEvent<ConversationView>(agent, 'conversation:offered', (c) => c.contact.display === `+${digits}`, 15_000);
    await smsc.text(digits, gsm('international'), 0, { source_addr_ton: 1, source_addr_npi: 1 });
    const conversation = await offered;
    const [contact] = await gw.store.sql<Array<{ channel: string; address: string }>>`
      select k.channel, k.address from conversations c join contacts k on k.id = c.contact_id where c.id = ${conversation.id}`;
    expect(contact).toEqual({ channel: 'phone', address: `+${digits}` });
    await request(agent, 'conversation:accept', { conversationId: conversation.id });
    const text = 'Reply to an international number';
    await request<MessageView>(agent, 'message:send', { conversationId: conversation.id, text, clientId: randomUUID() });
    const submit = await waitFor('the reply at the SMSC', () => submitsWithText(text)[0]);
    expect(submit.destinationAddr).toBe(digits);
  });

  it('retries throttled submits and counts them; an UNDELIV receipt marks the reply failed', async () => {
    const from = msisdn(6);
    const offered = offerFor(from);
    await smsc.text(from, gsm('anyone?'), 0);
    const conversation = await offered;
    await request(agent, 'conversation:accept', { conversationId: conversation.id });
    await messagesOf(conversation.id); // the console has it open: its status updates reach the agent
    const before = (await statusOf(linkId))?.counters.throttled ?? 0;
    smsc.submitStatuses.push(smpp.ESME_RTHROTTLED, smpp.ESME_RTHROTTLED);
    const text = 'We hear you. Stay on the line.';
    await request<MessageView>(agent, 'message:send', { conversationId: conversation.id, text, clientId: randomUUID() });
    const attempts = () => smsc.submits.filter((s) => s.text === text);
    await waitFor('the reply accepted after throttling', () => attempts().length === 3 && attempts()[2]?.status === smpp.ESME_ROK);
    expect(attempts().map((s) => s.status)).toEqual([smpp.ESME_RTHROTTLED, smpp.ESME_RTHROTTLED, smpp.ESME_ROK]);
    await waitFor('throttling counted', async () => ((await statusOf(linkId))?.counters.throttled ?? 0) >= before + 2);

    // The handset never got it: the receipt says so, and the console shows it failed.
    const accepted = attempts()[2] as RecordedSubmit;
    const failed = nextEvent<{ id: number; status: string; error: string | null }>(agent, 'message:status', (s) => s.status === 'failed');
    expect((await smsc.receipt(accepted, 'UNDELIV')).command_status).toBe(0);
    expect((await failed).error).toMatch(/UNDELIV/);
  });

  it('maps a receipt that overtakes its submit_sm_resp', async () => {
    const from = msisdn(9);
    const offered = offerFor(from);
    await smsc.text(from, gsm('hello?'), 0);
    const conversation = await offered;
    await request(agent, 'conversation:accept', { conversationId: conversation.id });
    await messagesOf(conversation.id);
    smsc.holdResponses = true;
    const text = 'Is the door locked?';
    const sent = await request<MessageView>(agent, 'message:send', { conversationId: conversation.id, text, clientId: randomUUID() });
    const submit = await waitFor('the submit at the SMSC', () => submitsWithText(text)[0]);
    const delivered = nextEvent<{ id: number; status: string }>(agent, 'message:status', (s) => s.id === sent.id && s.status === 'delivered');
    const receiptsBefore = (await statusOf(linkId))?.counters.receipts ?? 0;
    const receiptAnswer = smsc.receipt(submit);
    await waitFor('the receipt read by the gateway', async () => ((await statusOf(linkId))?.counters.receipts ?? 0) > receiptsBefore);
    smsc.holdResponses = false;
    smsc.releaseResponses();
    expect((await receiptAnswer).command_status).toBe(0);
    await delivered;
    expect(submitsWithText(text)).toHaveLength(1);
  });

  it('answers a malformed PDU with generic_nack and an unknown command with ESME_RINVCMDID, and the link stays up', async () => {
    const binds = smsc.boundCount;
    const nack = await smsc.sendRaw(truncatedDeliverSm(777), 777);
    expect(nack).toMatchObject({ command: 'generic_nack', command_status: smpp.ESME_RINVCMDLEN });
    const unknown = await smsc.sendRaw(withHeader(0x00000099, 778), 778);
    expect(unknown).toMatchObject({ command: 'generic_nack', command_status: smpp.ESME_RINVCMDID });

    const from = msisdn(5);
    const offered = offerFor(from);
    expect((await smsc.text(from, gsm('still there?'), 0)).command_status).toBe(0);
    expect(await inboundTexts((await offered).id, 1)).toEqual(['still there?']);
    expect(smsc.boundCount).toBe(binds);
    const status = await statusOf(linkId);
    expect(status?.state).toBe('up');
  });

  it('closes a session whose peer stops answering enquire_link, and binds again', async () => {
    const binds = smsc.boundCount;
    const connections = smsc.connections;
    smsc.silent = true;
    await waitFor('the dead peer dropped and a new connection tried', () => smsc.connections > connections, 15_000);
    const down = await waitFor('the link shown down', async () => {
      const s = await statusOf(linkId);
      return s?.state === 'down' ? s : undefined;
    });
    expect(down.lastError).toMatch(/enquire_link|response timeout/);
    smsc.silent = false;
    await smsc.waitForBind(binds, 15_000);
    await waitFor('the link up again', async () => (await statusOf(linkId))?.state === 'up');
  });

  it('answers the SMSC unbinding with unbind_resp, then binds again', async () => {
    const binds = smsc.boundCount;
    const resp = await smsc.unbindBound();
    expect(resp).toMatchObject({ command: 'unbind_resp', command_status: 0 });
    await smsc.waitForBind(binds, 15_000);
    await waitFor('the link up again', async () => (await statusOf(linkId))?.state === 'up');
  });

  it('rebinds after the SMSC dies; replies queued meanwhile arrive once each, and parts stored before the crash complete their message', async () => {
    const from = msisdn(4);
    const offered = offerFor(from);
    await smsc.text(from, gsm('they are outside'), 0);
    const conversation = await offered;
    await request(agent, 'conversation:accept', { conversationId: conversation.id });
    const longText = 'The intruder left through the back door, wearing a red jacket. '.repeat(4);
    const long = splitSms(longText, { reference: 99 });
    expect(long.parts).toHaveLength(2);
    expect((await smsc.text(from, long.parts[0] as Buffer, 0, { esm_class: long.esmClass })).command_status).toBe(0);

    const binds = smsc.boundCount;
    await smsc.stop();
    await waitFor('the link down', async () => (await statusOf(linkId))?.state === 'down');
    const replies = ['Units are on their way.', 'Can you lock the door?', 'Stay quiet, we are close.'];
    const ids: number[] = [];
    for (const text of replies) {
      ids.push((await request<MessageView>(agent, 'message:send', { conversationId: conversation.id, text, clientId: randomUUID() })).id);
    }
    await smsc.restart();
    await smsc.waitForBind(binds, 15_000);
    expect((await smsc.text(from, long.parts[1] as Buffer, 0, { esm_class: long.esmClass })).command_status).toBe(0);

    await waitFor('every reply sent', async () => {
      const stored = await messagesOf(conversation.id);
      return ids.every((id) => stored.find((m) => m.id === id)?.deliveryStatus === 'sent');
    }, 30_000);
    for (const text of replies) expect(submitsWithText(text)).toHaveLength(1);
    expect(replies.every((text) => submitsWithText(text)[0]?.bind === smsc.boundCount)).toBe(true);
    const texts = await inboundTexts(conversation.id, 2);
    expect(texts).toEqual(['they are outside', longText]);
    expect(await storedInbound(conversation.id)).toBe(2);
  });

  it('delivers a concatenated message with a visible gap when a part never comes', async () => {
    const other = await FakeSmsc.start({ systemId: 'psap', password: 'secret' });
    try {
      const id = await createLink('carrier-short-parts-timeout', settings(other.port, { partsTimeoutSeconds: 1 }));
      await other.waitForBind(0, 15_000);
      const from = msisdn(7);
      const offered = offerFor(from);
      const text = 'Part one of my message. '.repeat(7) + 'Part two is lost. '.repeat(9) + 'And part three arrives.';
      const split = splitSms(text, { reference: 5 });
      expect(split.parts).toHaveLength(3);
      for (const index of [0, 2]) {
        expect((await other.text(from, split.parts[index] as Buffer, 0, { esm_class: split.esmClass })).command_status).toBe(0);
      }
      const [shown] = await inboundTexts((await offered).id, 1);
      expect(shown).toContain('[…part 2 of 3 missing…]');
      expect(shown?.startsWith('Part one of my message.')).toBe(true);
      expect(shown?.endsWith('And part three arrives.')).toBe(true);
      expect((await api(gw, 'DELETE', `/api/links/${id}`, { token: admin })).status).toBe(204);
      await waitFor('an unbind when the link is deleted', () => other.unbinds === 1);
    } finally {
      await other.stop();
    }
  });

  it('connects over TLS, refusing a self-signed certificate unless told to accept it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'smsc-tls-'));
    const [key, cert] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    const secure = await FakeSmsc.start({ systemId: 'psap', password: 'secret', tls: { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') } });
    try {
      const strict = await createLink('carrier-tls-strict', settings(secure.port, { tls: true }));
      const refused = await waitFor('the certificate refused', async () => {
        const s = await statusOf(strict);
        return s?.state === 'down' && s.lastError ? s : undefined;
      });
      expect(refused.lastError).toMatch(/self[- ]signed/i);
      expect(secure.boundCount).toBe(0);
      await api(gw, 'DELETE', `/api/links/${strict}`, { token: admin });

      const lenient = await createLink('carrier-tls-self-signed', settings(secure.port, { tls: true, tlsRejectUnauthorized: false }));
      await waitFor('bound over TLS', async () => (await statusOf(lenient))?.state === 'up');
      const from = msisdn(8);
      const offered = offerFor(from);
      expect((await secure.text(from, gsm('over tls'), 0)).command_status).toBe(0);
      expect(await inboundTexts((await offered).id, 1)).toEqual(['over tls']);
      await api(gw, 'DELETE', `/api/links/${lenient}`, { token: admin });
    } finally {
      await secure.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
