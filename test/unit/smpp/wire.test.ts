/**
 * Framing and message-PDU reading (adapters/smpp/wire.ts) against PDUs the
 * `smpp` package builds, plus the pure link helpers: settings validation,
 * one-part keys, classification and reconnect backoff.
 */
import smpp from 'smpp';
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../adapters/smpp/client.ts';
import { parseSmppLink } from '../../../adapters/smpp/config.ts';
import { classifyMessagePdu, EMPTY_SMS_TEXT, ingestText, singleMessageKey, UNKNOWN_SENDER } from '../../../adapters/smpp/normalise.ts';
import { splitSms } from '../../../adapters/smpp/split.ts';
import { MalformedPduError, PduFramer, readMessagePdu, TLV, tlvString, tlvUint } from '../../../adapters/smpp/wire.ts';
import { ValidationError } from '../../../src/errors.ts';

const deliverSm = (options: Record<string, unknown>, sequence = 9) =>
  new smpp.PDU('deliver_sm', { source_addr: '15551234567', destination_addr: '911', data_coding: 0, ...options, sequence_number: sequence }).toBuffer();

describe('PduFramer', () => {
  it('cuts PDUs out of arbitrary chunks', () => {
    const a = deliverSm({ short_message: Buffer.from('one') }, 1);
    const b = new smpp.PDU('enquire_link', { sequence_number: 2 }).toBuffer();
    const stream = Buffer.concat([a, b]);
    const framer = new PduFramer();
    const frames = [];
    for (let i = 0; i < stream.length; i += 5) {
      framer.push(stream.subarray(i, i + 5));
      for (let f = framer.next(); f; f = framer.next()) frames.push(f);
    }
    expect(frames.map((f) => (f.kind === 'pdu' ? [f.header.sequence, f.bytes.length] : f.kind))).toEqual([
      [1, a.length],
      [2, 16],
    ]);
  });

  it('reports a command_length that breaks the framing once, then nothing', () => {
    const framer = new PduFramer();
    const bad = Buffer.alloc(16);
    bad.writeUInt32BE(8, 0);
    bad.writeUInt32BE(77, 12);
    framer.push(bad);
    expect(framer.next()).toEqual({ kind: 'bad-length', length: 8, sequence: 77 });
    framer.push(new smpp.PDU('enquire_link', { sequence_number: 3 }).toBuffer());
    expect(framer.next()).toBeUndefined();
  });
});

describe('readMessagePdu', () => {
  it('keeps the body bytes the package decoder would change', () => {
    const latin1 = Buffer.from('Café 5$', 'latin1');
    const pdu = readMessagePdu(deliverSm({ short_message: latin1, esm_class: 0 }));
    expect(pdu).toMatchObject({ command: 'deliver_sm', sequence: 9, sourceAddr: '15551234567', destinationAddr: '911', dataCoding: 0 });
    expect(pdu.shortMessage.equals(latin1)).toBe(true);
  });

  it('reads SAR, receipt and payload TLVs, and data_sm', () => {
    const pdu = readMessagePdu(deliverSm({ short_message: Buffer.alloc(0), sar_msg_ref_num: 513, sar_total_segments: 3, sar_segment_seqnum: 2, receipted_message_id: 'AB12' }));
    expect([tlvUint(pdu, TLV.sarMsgRefNum), tlvUint(pdu, TLV.sarTotalSegments), tlvUint(pdu, TLV.sarSegmentSeqnum)]).toEqual([513, 3, 2]);
    expect(tlvString(pdu, TLV.receiptedMessageId)).toBe('AB12');
    const data = readMessagePdu(
      new smpp.PDU('data_sm', { source_addr: '1555', destination_addr: '911', data_coding: 8, message_payload: Buffer.from([0xd8, 0x3d, 0xde, 0x91]), sequence_number: 4 }).toBuffer(),
    );
    expect(data).toMatchObject({ command: 'data_sm', dataCoding: 8, sequence: 4 });
    expect(data.tlvs.get(TLV.messagePayload)).toEqual(Buffer.from([0xd8, 0x3d, 0xde, 0x91]));
  });

  it('refuses a body that runs past the end', () => {
    const wire = deliverSm({ short_message: Buffer.from('hello') });
    const truncated = Buffer.from(wire.subarray(0, wire.length - 3));
    truncated.writeUInt32BE(truncated.length, 0);
    expect(() => readMessagePdu(truncated)).toThrow(MalformedPduError);
    const badTlv = Buffer.concat([wire, Buffer.from([0x04, 0x24, 0x00, 0x10, 0x41])]);
    badTlv.writeUInt32BE(badTlv.length, 0);
    expect(() => readMessagePdu(badTlv)).toThrow(/runs past the end/);
  });
});

describe('classifyMessagePdu', () => {
  it('sorts receipts, parts (UDH or SAR) and one-part messages', () => {
    const receipt = classifyMessagePdu('L', readMessagePdu(deliverSm({ esm_class: 0x04, short_message: Buffer.from('id:77 stat:DELIVRD err:000 text:') })));
    expect(receipt).toMatchObject({ kind: 'receipt', receipt: { messageId: '77', status: 'delivered' } });
    const split = splitSms('x'.repeat(200), { reference: 9 });
    const part = classifyMessagePdu('L', readMessagePdu(deliverSm({ esm_class: split.esmClass, short_message: split.parts[1] })));
    expect(part).toMatchObject({ kind: 'part', part: { concatKind: 'udh8', concatRef: 9, concatTotal: 2, concatSeq: 2, source: '15551234567' } });
    const sar = classifyMessagePdu('L', readMessagePdu(deliverSm({ short_message: Buffer.from('abc'), sar_msg_ref_num: 300, sar_total_segments: 2, sar_segment_seqnum: 1 })));
    expect(sar).toMatchObject({ kind: 'part', part: { concatKind: 'sar', concatRef: 300, concatSeq: 1 } });
    const anonymous = classifyMessagePdu('L', readMessagePdu(deliverSm({ source_addr: '', esm_class: split.esmClass, short_message: split.parts[0] })));
    expect(anonymous).toMatchObject({ kind: 'part', part: { source: UNKNOWN_SENDER } });
    expect(classifyMessagePdu('L', readMessagePdu(deliverSm({ short_message: Buffer.from('hi') })))).toMatchObject({ kind: 'single', dataCoding: 0 });
  });
});

describe('singleMessageKey and ingestText', () => {
  const pdu = { sequence: 5, sourceAddr: '1555', destinationAddr: '911' };
  const bytes = Buffer.from('help');
  it('is the same for a re-sent PDU and differs for another sequence number, text or bucket', () => {
    const t = Date.UTC(2024, 0, 1, 12, 1);
    const key = singleMessageKey('L', pdu, 0, bytes, t);
    expect(singleMessageKey('L', pdu, 0, bytes, t + 1000)).toBe(key);
    expect(singleMessageKey('L', { ...pdu, sequence: 6 }, 0, bytes, t)).not.toBe(key);
    expect(singleMessageKey('L', pdu, 0, Buffer.from('help!'), t)).not.toBe(key);
    expect(singleMessageKey('L', pdu, 0, bytes, t + 10 * 60_000)).not.toBe(key);
    expect(key).not.toContain('1555');
  });

  it('never hands ingest an empty or oversized text', () => {
    expect(ingestText('  ', 100)).toBe(EMPTY_SMS_TEXT);
    const cut = ingestText('a'.repeat(50), 20);
    expect(cut.length).toBeLessThanOrEqual(20);
    expect(cut).toMatch(/truncated/);
  });
});

describe('parseSmppLink', () => {
  it('fills defaults', () => {
    const { settings, secrets } = parseSmppLink({ settings: { mode: 'client', host: 'smsc', port: 2775, systemId: 'psap' }, secrets: { password: 'pw' } });
    expect(settings).toMatchObject({ bindMode: 'transceiver', systemType: '', tls: false, window: 10, throughput: 50, enquireLinkSeconds: 30, responseTimeoutMs: 10_000, reconnectMinMs: 1000, reconnectMaxMs: 60_000, partsTimeoutSeconds: 60 });
    expect(secrets).toEqual({ password: 'pw' });
  });

  it('fills server-mode defaults', () => {
    const { settings } = parseSmppLink({ settings: { mode: 'server', port: 2775, systemId: 'tcc' }, secrets: { password: 'pw' } });
    expect(settings).toMatchObject({ mode: 'server', host: '0.0.0.0', serverSystemId: 'LIFELINE', bindTimeoutSeconds: 5, tls: false, window: 10 });
    expect(settings).not.toHaveProperty('allowedAddresses');
  });

  it.each([
    [{ mode: 'client', host: 'smsc', port: 99999, systemId: 'psap' }, { password: 'pw' }, 'port'],
    [{ mode: 'client', host: 'smsc', port: 2775, systemId: 'psap', window: 0 }, { password: 'pw' }, 'window'],
    [{ mode: 'client', host: 'smsc', port: 2775, systemId: 'psap', reconnectMinMs: 5000, reconnectMaxMs: 1000 }, { password: 'pw' }, 'reconnectMaxMs'],
    [{ mode: 'client', host: 'smsc', port: 2775, systemId: 'psap', bindMode: 'both' }, { password: 'pw' }, 'bindMode'],
    [{ mode: 'peer', host: 'smsc', port: 2775, systemId: 'psap' }, { password: 'pw' }, 'mode'],
    [{ mode: 'server', port: 2775, systemId: 'psap', tls: true }, { password: 'pw' }, 'tls'],
    [{ mode: 'server', port: 2775, systemId: 'psap', allowedAddresses: ['10.0.0.300'] }, { password: 'pw' }, 'allowedAddresses.0'],
    [{ mode: 'client', host: 'smsc', port: 2775, systemId: 'psap' }, {}, 'password'],
  ])('names the bad field (%#)', (settings, secrets, field) => {
    try {
      parseSmppLink({ settings, secrets });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).field).toBe(field);
    }
  });
});

describe('backoffDelay', () => {
  it('grows exponentially to the cap, with full jitter', () => {
    expect(backoffDelay(0, 1000, 60_000, () => 0.999)).toBe(999);
    expect(backoffDelay(3, 1000, 60_000, () => 0.5)).toBe(4000);
    expect(backoffDelay(20, 1000, 60_000, () => 0.999)).toBe(59_940);
    expect(backoffDelay(5, 1000, 60_000, () => 0)).toBe(10);
  });
});
