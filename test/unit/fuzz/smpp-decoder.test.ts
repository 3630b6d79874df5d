/**
 * The SMPP PDU decoder on thousands of random and mutated PDUs: the framer,
 * readMessagePdu (which may only throw MalformedPduError), the classifier and
 * the text decoders must never crash and must give well-formed results.
 */
import smpp from 'smpp';
import { describe, expect, it } from 'vitest';
import { decodeShortMessage, toWellFormed } from '../../../adapters/smpp/encoding.ts';
import { classifyMessagePdu, ingestText } from '../../../adapters/smpp/normalise.ts';
import { buildConcatUdh } from '../../../adapters/smpp/udh.ts';
import { HEADER_LENGTH, MalformedPduError, MAX_PDU_LENGTH, messageCommandOf, PduFramer, readMessagePdu, tlvString, tlvUint, type Frame } from '../../../adapters/smpp/wire.ts';
import { mutateBytes, seeded, watchUnhandledRejections, type Prng } from './support.ts';

watchUnhandledRejections();

const pdu = (command: 'deliver_sm' | 'data_sm' | 'submit_sm' | 'enquire_link', options: Record<string, unknown>) =>
  new smpp.PDU(command, { source_addr: '15551234567', source_addr_ton: 1, destination_addr: '911', sequence_number: 7, ...options }).toBuffer() as Buffer;

/** Valid PDUs of every shape the decoder reads: text, UCS-2, UDH and SAR parts, payload TLV, receipts, data_sm, other commands. */
const SAMPLES: Buffer[] = [
  pdu('deliver_sm', { data_coding: 0, short_message: Buffer.from('Help, there is a fire') }),
  pdu('deliver_sm', { data_coding: 8, short_message: Buffer.from('\u00fe\u00ff\u0041\u00e9', 'utf16le').swap16() }),
  pdu('deliver_sm', { esm_class: 0x40, data_coding: 0, short_message: Buffer.concat([buildConcatUdh(42, 3, 2), Buffer.from('part two')]) }),
  pdu('deliver_sm', { data_coding: 0, short_message: Buffer.from('sar'), sar_msg_ref_num: 513, sar_total_segments: 2, sar_segment_seqnum: 1 }),
  pdu('deliver_sm', { data_coding: 8, message_payload: Buffer.from('a long payload 😀', 'utf16le').swap16() }),
  pdu('deliver_sm', { esm_class: 0x04, short_message: Buffer.from('id:123 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000 text:x') }),
  pdu('deliver_sm', { esm_class: 0x04, receipted_message_id: 'abc123', message_state: 2 }),
  pdu('data_sm', { data_coding: 3, message_payload: Buffer.from('caf\u00e9', 'latin1') }),
  pdu('submit_sm', { data_coding: 0, short_message: Buffer.from('from an ESME') }),
  pdu('enquire_link', {}),
];

function randomTlv(prng: Prng): Buffer {
  const value = prng.bytes(prng.int(0, 12));
  const tlv = Buffer.alloc(4 + value.length);
  tlv.writeUInt16BE(prng.pick([0x020c, 0x020e, 0x020f, 0x0424, 0x001e, 0x0427, 0x0423, prng.int(0, 0xffff)]), 0);
  // Sometimes a length that lies about the value that follows.
  tlv.writeUInt16BE(prng.next() < 0.7 ? value.length : prng.pick([0, 0xffff, value.length + 1, prng.int(0, 0xffff)]), 2);
  value.copy(tlv, 4);
  return tlv;
}

/** A fuzz input: a mutated sample, a sample with random TLVs (length fixed up or not), or random bytes behind a plausible header. */
function input(prng: Prng): Buffer {
  const sample = prng.pick(SAMPLES);
  const roll = prng.next();
  if (roll < 0.55) return mutateBytes(prng, sample);
  if (roll < 0.85) {
    const out = Buffer.concat([sample, ...Array.from({ length: prng.int(1, 4) }, () => randomTlv(prng))]);
    if (prng.next() < 0.8) out.writeUInt32BE(out.length, 0);
    return prng.next() < 0.3 ? mutateBytes(prng, out, 1) : out;
  }
  const out = prng.bytes(prng.int(0, 300));
  if (out.length >= 8) {
    out.writeUInt32BE(prng.next() < 0.8 ? out.length : prng.int(0, 0xffffffff), 0);
    out.writeUInt32BE(prng.pick([0x00000005, 0x00000103, 0x00000004, prng.int(0, 0xffffffff)]), 4);
  }
  return out;
}

const isWellFormed = (text: string) => typeof text === 'string' && toWellFormed(text) === text;

describe('SMPP decoder fuzz', () => {
  it('reads every random or mutated PDU, or refuses it with MalformedPduError', () => {
    const prng = seeded('smpp-decoder');
    const problems: string[] = [];
    const tally = { pdus: 0, read: 0, malformed: 0, badLength: 0 };
    const decode = (bytes: Buffer) => {
      let read;
      try {
        read = readMessagePdu(bytes);
      } catch (err) {
        if (err instanceof MalformedPduError) return void tally.malformed++;
        throw err;
      }
      tally.read++;
      expect(messageCommandOf(bytes.readUInt32BE(4))).toBe(read.command);
      for (const value of [read.serviceType, read.sourceAddr, read.destinationAddr]) expect(typeof value).toBe('string');
      for (const tag of read.tlvs.keys()) {
        void tlvUint(read, tag);
        expect(typeof tlvString(read, tag)).toBe('string');
      }
      const classified = classifyMessagePdu('link', read, prng.next() < 0.7);
      if (classified.kind === 'receipt') return;
      const payload = classified.kind === 'single' ? classified.payload : classified.part.payload;
      const text = decodeShortMessage(read.dataCoding, payload, { smscDefaultAlphabet: prng.pick(['gsm7', 'latin1'] as const) });
      if (!isWellFormed(text)) problems.push(`not well-formed: ${bytes.toString('hex')}`);
      expect(typeof ingestText(text, 100)).toBe('string');
      if (classified.kind === 'part') {
        const { concatTotal, concatSeq } = classified.part;
        if (!(concatSeq >= 1 && concatSeq <= concatTotal)) problems.push(`part ${concatSeq} of ${concatTotal}: ${bytes.toString('hex')}`);
      }
    };

    for (let round = 0; round < 6000; round++) {
      const bytes = input(prng);
      try {
        // Straight to the decoder, as a framer-cut PDU would be (any length, even a short one).
        decode(bytes);
        // Through the framer, in random chunks, with a second PDU behind it.
        const stream = Buffer.concat([bytes, prng.pick(SAMPLES)]);
        const framer = new PduFramer();
        const frames: Frame[] = [];
        for (let at = 0; at < stream.length; ) {
          const size = prng.int(1, 64);
          framer.push(stream.subarray(at, at + size));
          at += size;
          for (let f = framer.next(); f; f = framer.next()) frames.push(f);
        }
        for (const frame of frames) {
          if (frame.kind === 'bad-length') {
            tally.badLength++;
            expect(frame.length < HEADER_LENGTH || frame.length > MAX_PDU_LENGTH).toBe(true);
            continue;
          }
          tally.pdus++;
          expect(frame.bytes.length).toBe(frame.header.length);
          if (messageCommandOf(frame.header.commandId)) decode(frame.bytes);
        }
        // A broken stream stops at its bad length: nothing after it is read.
        expect(frames.filter((f) => f.kind === 'bad-length').length).toBeLessThanOrEqual(1);
        if (frames.some((f) => f.kind === 'bad-length')) expect(frames.at(-1)?.kind).toBe('bad-length');
      } catch (err) {
        problems.push(`${err instanceof Error ? `${err.name}: ${err.message}` : String(err)} on ${bytes.toString('hex')}`);
      }
      if (problems.length >= 5) break;
    }
    console.log(`smpp-decoder: ${JSON.stringify(tally)}`);
    expect(problems).toEqual([]);
    // The inputs reached every outcome.
    expect(tally.read).toBeGreaterThan(1000);
    expect(tally.malformed).toBeGreaterThan(500);
    expect(tally.badLength).toBeGreaterThan(100);
  });
});
