/**
 * Pins the `smpp` 0.5.1 runtime facts that adapters/smpp/smpp.d.ts declares,
 * and how our pure modules meet it: PDUs are built and parsed for real, and a
 * Session runs over an in-memory loopback stream (what it writes it reads
 * back), so no network is involved.
 */
import type { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import smpp, { PDU, Session } from 'smpp';
import { describe, expect, it } from 'vitest';
import { decodeShortMessage } from '../../../adapters/smpp/encoding.ts';
import { decodeGsm7 } from '../../../adapters/smpp/gsm7.ts';
import { parseDeliveryReceipt } from '../../../adapters/smpp/receipt.ts';
import { splitSms } from '../../../adapters/smpp/split.ts';

describe('smpp module shape', () => {
  it('exposes the constants we rely on, on the default export', () => {
    expect(smpp.errors.ESME_ROK).toBe(0x00);
    expect(smpp.errors.ESME_RINVCMDID).toBe(0x03);
    expect(smpp.errors.ESME_RBINDFAIL).toBe(0x0d);
    expect(smpp.errors.ESME_RMSGQFUL).toBe(0x14);
    expect(smpp.errors.ESME_RTHROTTLED).toBe(0x58);
    expect(smpp.ESME_RTHROTTLED).toBe(0x58);
    expect(smpp.consts.ESM_CLASS.UDH_INDICATOR).toBe(0x40);
    expect(smpp.ESM_CLASS.MC_DELIVERY_RECEIPT).toBe(0x04);
    expect(smpp.MESSAGE_STATE.DELIVERED).toBe(2);
    expect(smpp.REGISTERED_DELIVERY.FINAL).toBe(0x01);
    expect(typeof smpp.filters.message.decode).toBe('function');
    expect(smpp.PDU).toBe(PDU);
  });

  it('has no createSecureServer: createServer with key and cert makes the TLS server', () => {
    expect('createSecureServer' in smpp).toBe(false);
    expect(typeof smpp.createServer).toBe('function');
    expect(smpp.createServer()).toBeInstanceOf(smpp.Server);
  });

  it('uses the same GSM 03.38 basic table as our codec', () => {
    const septets = Buffer.from(Array.from({ length: 128 }, (_, i) => i).filter((i) => i !== 0x1b));
    expect(decodeGsm7(septets)).toBe(smpp.encodings.ASCII.decode(septets));
  });
});

describe('PDUs built from our parts', () => {
  it('sends a split part byte for byte with our data_coding and esm_class', () => {
    const sms = splitSms('x'.repeat(200), { reference: 0x2a });
    const pdu = new PDU('submit_sm', {
      source_addr: '911',
      destination_addr: '15551234567',
      data_coding: sms.dataCoding,
      esm_class: sms.esmClass,
      registered_delivery: smpp.REGISTERED_DELIVERY.FINAL,
      short_message: sms.parts[0],
    });
    const wire = pdu.toBuffer();
    const body = sms.parts[0] as Buffer;
    expect(wire.subarray(wire.length - body.length).equals(body)).toBe(true);
    expect(wire[wire.length - body.length - 1]).toBe(body.length); // sm_length
    const parsed = new PDU(wire);
    expect(parsed).toMatchObject({ command: 'submit_sm', data_coding: 0, esm_class: 0x40, registered_delivery: 1 });
    expect(parsed.short_message).toEqual({ udh: [Buffer.from('00032a0201', 'hex')], message: 'x'.repeat(153) });
  });

  it('answers a request with its *_resp, and an unknown command with generic_nack ESME_RINVCMDID', () => {
    const request = new PDU('deliver_sm', { sequence_number: 77 });
    expect(request.response()).toMatchObject({ command: 'deliver_sm_resp', sequence_number: 77, command_status: 0 });
    const unknown = new PDU(Buffer.from('00000010000000990000000000000005', 'hex'));
    expect(unknown.command).toBe('unknown');
    expect(unknown.response()).toMatchObject({ command: 'generic_nack', sequence_number: 5, command_status: smpp.ESME_RINVCMDID });
  });

  it('parses receipt and SAR TLVs into numbers and strings', () => {
    const wire = new PDU('deliver_sm', {
      esm_class: smpp.ESM_CLASS.MC_DELIVERY_RECEIPT,
      short_message: Buffer.from('id:abc sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000 text:'),
      receipted_message_id: 'abc',
      message_state: 2,
      sar_msg_ref_num: 513,
      sar_total_segments: 2,
      sar_segment_seqnum: 1,
    }).toBuffer();
    const pdu = new PDU(wire);
    expect(pdu).toMatchObject({ receipted_message_id: 'abc', message_state: 2, sar_msg_ref_num: 513, sar_total_segments: 2, sar_segment_seqnum: 1 });
    expect(
      parseDeliveryReceipt({ esmClass: pdu.esm_class ?? 0, receiptedMessageId: pdu.receipted_message_id, messageState: pdu.message_state }),
    ).toMatchObject({ messageId: 'abc', status: 'delivered' });
  });
});

describe('a Session over an in-memory loopback', () => {
  /** A Session whose writes come back as its own input. */
  function loopbackSession(): Session {
    return new Session({ socket: new PassThrough() as unknown as Socket });
  }

  function nextPdu(session: Session, command: 'deliver_sm' | 'enquire_link'): Promise<PDU> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${command} within 2 s`)), 2_000);
      session.once(command, (pdu) => {
        clearTimeout(timer);
        resolve(pdu);
      });
    });
  }

  it('sends through the typed shortcut methods and emits received PDUs by command name', async () => {
    const session = loopbackSession();
    const received = nextPdu(session, 'enquire_link');
    expect(session.enquire_link()).toBe(true);
    expect((await received).sequence_number).toBe(1);
    session.destroy();
  });

  it('matches a response to its request callback by sequence number', async () => {
    const session = loopbackSession();
    // Playing the SMSC on the same loopback: answer the bind we are about to read back.
    session.on('bind_transceiver', (pdu) => {
      session.send(pdu.response({ system_id: pdu.system_id === 'psap' ? 'SMSC' : 'nope', command_status: smpp.ESME_ROK }));
    });
    const response = await new Promise<PDU>((resolve) => {
      session.bind_transceiver({ system_id: 'psap', password: 'secret' }, resolve);
    });
    expect(response).toMatchObject({ command: 'bind_transceiver_resp', command_status: 0, system_id: 'SMSC', sequence_number: 1 });
    session.destroy();
  });

  it('hands inbound bodies over already decoded, losing octets our decoder keeps', async () => {
    const session = loopbackSession();
    const received = nextPdu(session, 'deliver_sm');
    const latin1 = Buffer.from('Café 5$', 'latin1');
    session.deliver_sm({ source_addr: '15551234567', destination_addr: '911', data_coding: 0, short_message: latin1 });
    const pdu = await received;
    // The library reads DC 0 as GSM and turns é (0xE9) into a space and $ into ¤ ...
    expect(pdu.short_message).toEqual({ message: 'Caf  5¤' });
    // ... while our decoder, given the raw bytes, reads a high octet as Latin-1.
    expect(decodeShortMessage(0, latin1)).toBe('Café 5$');
    session.destroy();
  });
});
