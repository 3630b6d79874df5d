/**
 * Fuzz-style properties with a seeded PRNG: random bytes through every
 * parser and decoder must give well-formed results (and never throw), and
 * random texts must survive split → shuffle/repeat → reassembly unchanged.
 */
import { describe, expect, it } from 'vitest';
import { decodeShortMessage, toWellFormed } from '../../../adapters/smpp/encoding.ts';
import { decodeGsm7, decodeGsm7Packed, encodeGsm7, gsm7Length, isGsm7 } from '../../../adapters/smpp/gsm7.ts';
import { parseDeliveryReceipt } from '../../../adapters/smpp/receipt.ts';
import { Reassembler, type AssembledMessage } from '../../../adapters/smpp/reassembly.ts';
import { describeSms, splitSms } from '../../../adapters/smpp/split.ts';
import { extractPart, parseUdh } from '../../../adapters/smpp/udh.ts';
import { createPrng, type Prng } from './prng.ts';

const ROUNDS = 4000;
const isWellFormed = (text: string): boolean => toWellFormed(text) === text;

/** Collects property violations so one assertion reports them all (expect() per round is slow). */
function violations(): { check(ok: boolean, what: () => string): void; list: string[] } {
  const list: string[] = [];
  return { list, check: (ok, what) => void (ok || list.length >= 10 || list.push(what())) };
}

const POOLS = {
  gsm: [...'abcXYZ019 .,!?@£$¥èéΔ_ΦÆßÉ¤¡ÄÖÑÜ§¿äöñüà\n\r'],
  extension: [...'€[]{}~^|\\\f'],
  other: ['ç', 'ú', '’', '“', 'ж', 'Я', '中', 'ğ', '😀', '🚑', '👍🏽', '\u00a0'],
};

function randomText(prng: Prng, length: number): string {
  const mix = prng.int(0, 2);
  let text = '';
  for (let i = 0; i < length; i++) {
    const roll = prng.next();
    const pool = roll < 0.8 || mix === 0 ? POOLS.gsm : roll < 0.95 || mix === 1 ? POOLS.extension : POOLS.other;
    text += prng.pick(pool);
  }
  return text;
}

function shuffle<T>(prng: Prng, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = prng.int(0, i);
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

describe('decoders and parsers on random bytes', () => {
  it('decodeShortMessage returns well-formed text for every data coding', () => {
    const prng = createPrng(0x5eed01);
    const v = violations();
    for (let round = 0; round < ROUNDS; round++) {
      const bytes = prng.bytes(prng.int(0, 200));
      const dataCoding = prng.int(0, 255);
      const text = decodeShortMessage(dataCoding, bytes, {
        smscDefaultAlphabet: prng.pick(['gsm7', 'latin1'] as const),
        ia5Alphabet: prng.pick(['ascii', 'gsm7'] as const),
      });
      const what = (): string => `dc ${dataCoding} ${bytes.toString('hex')} → ${JSON.stringify(text)}`;
      v.check(isWellFormed(text), what);
      if (dataCoding === 3) v.check(text.length === bytes.length, what);
      if (dataCoding === 8) v.check(text.length <= Math.ceil(bytes.length / 2), what);
      if (dataCoding === 4) v.check(text === `[binary message, ${bytes.length} bytes]`, what);
    }
    expect(v.list).toEqual([]);
  });

  it('decodeGsm7 and decodeGsm7Packed give at most one character per octet/septet', () => {
    const prng = createPrng(0x5eed02);
    const v = violations();
    for (let round = 0; round < ROUNDS; round++) {
      const bytes = prng.bytes(prng.int(0, 200));
      const unpacked = decodeGsm7(bytes);
      v.check(unpacked.length <= bytes.length && isWellFormed(unpacked), () => bytes.toString('hex'));
      const options = { fillBits: prng.int(-2, 9), ...(prng.next() < 0.5 ? { count: prng.pick([prng.int(-5, 300), Number.NaN, 2.5]) } : {}) };
      const packed = decodeGsm7Packed(bytes, options);
      v.check(packed.length <= Math.ceil((bytes.length * 8) / 7), () => `${bytes.toString('hex')} ${JSON.stringify(options)}`);
    }
    expect(v.list).toEqual([]);
  });

  it('parseUdh returns a payload that is a suffix of the input and elements inside the header', () => {
    const prng = createPrng(0x5eed03);
    const v = violations();
    let wellFormed = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const body = prng.next() < 0.5 ? prng.bytes(prng.int(0, 60)) : Buffer.concat([Buffer.from([prng.int(0, 12)]), prng.bytes(prng.int(0, 30))]);
      const { elements, payload, malformed } = parseUdh(body);
      const what = (): string => body.toString('hex');
      v.check(body.subarray(body.length - payload.length).equals(payload), what);
      const headerBytes = elements.reduce((sum, e) => sum + 2 + e.data.length, 0);
      if (!malformed) wellFormed++;
      v.check(malformed ? headerBytes <= body.length : 1 + headerBytes + payload.length === body.length, what);
    }
    expect(v.list).toEqual([]);
    expect(wellFormed).toBeGreaterThan(100);
  });

  it('extractPart only ever reports consistent concatenation info', () => {
    const prng = createPrng(0x5eed04);
    const oddValues = [undefined, 0, 1, 2, 3, 255, 256, -1, 1.5, '2', Number.NaN, null];
    const v = violations();
    let concatenated = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const part = extractPart({
        esmClass: prng.int(0, 255),
        shortMessage: prng.bytes(prng.int(0, 40)),
        ...(prng.next() < 0.3 ? { messagePayload: prng.bytes(prng.int(0, 300)) } : {}),
        sarMsgRefNum: prng.next() < 0.5 ? prng.int(0, 70000) : prng.pick(oddValues),
        sarTotalSegments: prng.pick(oddValues),
        sarSegmentSeqnum: prng.pick(oddValues),
      });
      const { concat } = part;
      if (!concat) continue;
      concatenated++;
      v.check(concat.total >= 2 && concat.sequence >= 1 && concat.sequence <= concat.total, () => JSON.stringify(concat));
    }
    expect(v.list).toEqual([]);
    expect(concatenated).toBeGreaterThan(50);
  });

  it('parseDeliveryReceipt returns undefined or a receipt with an id and a known status', () => {
    const prng = createPrng(0x5eed05);
    const tokens = ['id:', 'stat:', 'err:', 'text:', 'submit date:', 'DELIVRD', 'UNDELIV', 'ab12', ' ', '0', '\u0000', 'é'];
    let receipts = 0;
    const v = violations();
    for (let round = 0; round < ROUNDS; round++) {
      const text = Array.from({ length: prng.int(0, 12) }, () => prng.pick(tokens)).join('');
      const receipt = parseDeliveryReceipt({
        esmClass: prng.pick([0x04, 0x24, 0x20, 0x00, prng.int(0, 255)]),
        text: prng.next() < 0.8 ? text : prng.bytes(prng.int(0, 80)),
        receiptedMessageId: prng.pick([undefined, '', 'x1', 7, '\u0000']),
        messageState: prng.pick([undefined, prng.int(-1, 12), '2', 2.5]),
        networkErrorCode: prng.pick([undefined, prng.bytes(prng.int(0, 5)), 'x']),
      });
      if (!receipt) continue;
      receipts++;
      v.check(receipt.messageId.length > 0 && ['sent', 'delivered', 'failed'].includes(receipt.status), () => JSON.stringify(receipt));
    }
    expect(v.list).toEqual([]);
    expect(receipts).toBeGreaterThan(100);
  });
});

describe('reassembly under a random stream of parts', () => {
  it('stays within bounds and accounts for every part exactly once', () => {
    const prng = createPrng(0x5eed06);
    let now = 0;
    const r = new Reassembler({ timeoutMs: 2_000, maxPending: 8, maxBytes: 600, rememberMs: 20_000, maxRemembered: 16, now: () => now });
    const delivered: AssembledMessage[] = [];
    const accepted: string[] = [];
    const v = violations();
    for (let round = 0; round < ROUNDS; round++) {
      now += prng.int(0, 600);
      const total = prng.int(1, 4);
      const sequence = prng.int(1, total);
      const partId = `p${round}`;
      accepted.push(partId);
      const result = r.accept({
        partId,
        linkId: prng.pick(['L1', 'L2']),
        source: prng.pick(['a', 'b', 'c']),
        destination: '911',
        // Often the same bytes for the same sequence, so carrier-style repeats happen.
        ...(prng.next() < 0.6
          ? { dataCoding: 0, payload: Buffer.from(`part ${sequence} `) }
          : { dataCoding: prng.pick([0, 3, 8, 8, 4]), payload: prng.bytes(prng.int(0, 140)) }),
        ...(total > 1 ? { concat: { kind: prng.pick(['udh8', 'udh16', 'sar'] as const), reference: prng.int(0, 3), total, sequence } } : {}),
      });
      delivered.push(...result.ready);
      if (prng.next() < 0.05) delivered.push(...r.expire());
      v.check(r.pendingCount <= 8 && r.pendingBytes <= 600, () => `round ${round}: ${r.pendingCount} pending, ${r.pendingBytes} bytes`);
    }
    delivered.push(...r.flushAll());
    expect(r.pendingBytes).toBe(0);

    const seen = delivered.flatMap((m) => m.partIds).sort();
    expect(seen).toEqual([...accepted].sort());
    for (const message of delivered) {
      const total = message.concat?.total ?? 1;
      const sequences = [...message.received, ...message.missing].sort((a, b) => a - b).join();
      v.check(
        isWellFormed(message.text) && message.complete === (message.missing.length === 0) && sequences === Array.from({ length: total }, (_, i) => i + 1).join(),
        () => JSON.stringify(message),
      );
    }
    expect(v.list).toEqual([]);
    const reasons = new Set(delivered.map((m) => m.reason));
    for (const reason of ['single', 'complete', 'timeout', 'overflow', 'repeat', 'shutdown']) expect(reasons).toContain(reason);
  });
});

describe('random texts survive split and reassembly', () => {
  it('GSM-7 encoding round-trips and counts septets', () => {
    const prng = createPrng(0x5eed07);
    const v = violations();
    let gsmTexts = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const text = randomText(prng, prng.int(0, 60));
      if (!isGsm7(text)) continue;
      gsmTexts++;
      const bytes = encodeGsm7(text);
      v.check(bytes.length === gsm7Length(text) && decodeGsm7(bytes) === text, () => JSON.stringify(text));
    }
    expect(v.list).toEqual([]);
    expect(gsmTexts).toBeGreaterThan(1000);
  });

  it('split → shuffled, repeated parts → reassembled equals the original', () => {
    const prng = createPrng(0x5eed08);
    const v = violations();
    const encodings = new Set<string>();
    for (let round = 0; round < 600; round++) {
      const text = randomText(prng, prng.int(0, 700));
      const sms = splitSms(text, { reference: prng.int(0, 255) });
      const description = describeSms(text);
      encodings.add(`${description.encoding}/${sms.parts.length > 1 ? 'multi' : 'single'}`);
      const what = (): string => JSON.stringify(text);
      v.check(sms.parts.length === description.parts && sms.dataCoding === (description.encoding === 'GSM-7' ? 0 : 8), what);
      const maxPayload = sms.parts.length === 1 ? (sms.dataCoding === 0 ? 160 : 140) : sms.dataCoding === 0 ? 153 : 134;
      const r = new Reassembler({ now: () => 0 });
      const order = shuffle(prng, [...sms.parts.keys(), ...sms.parts.keys()].slice(0, sms.parts.length + prng.int(0, sms.parts.length)));
      const ready: AssembledMessage[] = [];
      for (const index of order) {
        const { payload, concat } = extractPart({ esmClass: sms.esmClass, shortMessage: sms.parts[index] as Buffer });
        v.check(payload.length <= maxPayload, what);
        ready.push(...r.accept({ partId: `${index}`, linkId: 'L', source: 's', destination: 'd', dataCoding: sms.dataCoding, payload, ...(concat ? { concat } : {}) }).ready);
      }
      // Every delivery (the message, repeats of it, or a repeated one-part SMS) is the original text under one key.
      v.check(ready.length > 0 && ready.every((m) => m.text === text && m.complete) && new Set(ready.map((m) => m.key)).size === 1, what);
      if (sms.parts.length > 1) v.check(ready.filter((m) => m.reason === 'complete').length === 1, what);
    }
    expect(v.list).toEqual([]);
    expect([...encodings].sort()).toEqual(['GSM-7/multi', 'GSM-7/single', 'UCS-2/multi', 'UCS-2/single']);
  });
});
