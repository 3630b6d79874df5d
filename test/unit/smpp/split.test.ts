import { describe, expect, it } from 'vitest';
import { decodeGsm7, encodeGsm7, gsm7Length } from '../../../adapters/smpp/gsm7.ts';
import { MAX_SMS_PARTS, describeSms, splitSms } from '../../../adapters/smpp/split.ts';
import { ValidationError } from '../../../src/errors.ts';

const udhOf = (part: Buffer): string => part.subarray(0, 6).toString('hex');
const gsmText = (length: number): string => Array.from({ length }, (_, i) => 'abcdefghij'[i % 10]).join('');

describe('splitSms: GSM-7', () => {
  it('sends up to 160 septets as one part without UDH', () => {
    const text = gsmText(160);
    const sms = splitSms(text, { reference: 1 });
    expect(sms).toEqual({ dataCoding: 0, esmClass: 0, parts: [encodeGsm7(text)] });
  });

  it('splits a 400-character reply into 3 parts of at most 153 septets with UDH 05 00 03 ref 03 seq', () => {
    const text = gsmText(400);
    const sms = splitSms(text, { reference: 0x2a });
    expect(sms.dataCoding).toBe(0);
    expect(sms.esmClass).toBe(0x40);
    expect(sms.parts.map(udhOf)).toEqual(['0500032a0301', '0500032a0302', '0500032a0303']);
    expect(sms.parts.map((p) => p.length - 6)).toEqual([153, 153, 94]);
    expect(sms.parts.map((p) => decodeGsm7(p.subarray(6))).join('')).toBe(text);
    expect(sms.parts[1]?.subarray(6, 9).toString('latin1')).toBe(text.slice(153, 156));
  });

  it('splits 161 septets into 153 + 8', () => {
    const sms = splitSms(gsmText(161), { reference: 0 });
    expect(sms.parts.map((p) => [udhOf(p), p.length - 6])).toEqual([
      ['050003000201', 153],
      ['050003000202', 8],
    ]);
  });

  it('never splits an extension character across the 153-septet boundary', () => {
    const text = `${gsmText(152)}€${gsmText(10)}`;
    expect(gsm7Length(text)).toBe(164);
    const sms = splitSms(text, { reference: 5 });
    expect(sms.parts).toHaveLength(2);
    const [first, second] = sms.parts.map((p) => p.subarray(6));
    expect(first).toHaveLength(152);
    expect(first?.at(-1)).not.toBe(0x1b);
    expect(second?.subarray(0, 2).toString('hex')).toBe('1b65');
    expect(decodeGsm7(Buffer.concat([first ?? Buffer.alloc(0), second ?? Buffer.alloc(0)]))).toBe(text);
  });

  it('fills a part exactly when the extension character ends on septet 153', () => {
    const sms = splitSms(`${gsmText(151)}€${gsmText(10)}`, { reference: 5 });
    expect(sms.parts.map((p) => p.length - 6)).toEqual([153, 10]);
    expect(sms.parts[0]?.subarray(-2).toString('hex')).toBe('1b65');
  });
});

describe('splitSms: UCS-2', () => {
  it('sends up to 70 characters as one part', () => {
    const sms = splitSms('ж'.repeat(70), { reference: 1 });
    expect(sms.dataCoding).toBe(8);
    expect(sms.esmClass).toBe(0);
    expect(sms.parts).toHaveLength(1);
    expect(sms.parts[0]).toHaveLength(140);
  });

  it('splits a 400-character reply into 6 parts of at most 67 characters', () => {
    const text = `Помощь уже в пути. ${'ж'.repeat(381)}`;
    expect(text).toHaveLength(400);
    const sms = splitSms(text, { reference: 0xff });
    expect(sms.dataCoding).toBe(8);
    expect(sms.esmClass).toBe(0x40);
    expect(sms.parts.map(udhOf)).toEqual(['050003ff0601', '050003ff0602', '050003ff0603', '050003ff0604', '050003ff0605', '050003ff0606']);
    expect(sms.parts.map((p) => (p.length - 6) / 2)).toEqual([67, 67, 67, 67, 67, 65]);
    expect(sms.parts[0]?.subarray(6, 10).toString('hex')).toBe('041f043e');
  });

  it('never splits a surrogate pair across parts', () => {
    const text = `${'ж'.repeat(66)}😀${'ж'.repeat(10)}`;
    const sms = splitSms(text, { reference: 3 });
    expect(sms.parts.map((p) => (p.length - 6) / 2)).toEqual([66, 12]);
    expect(sms.parts[1]?.subarray(6, 10).toString('hex')).toBe('d83dde00');
  });

  it('uses UCS-2 for the whole text when one character is not GSM', () => {
    const sms = splitSms('Ambulance is coming 🚑', { reference: 1 });
    expect(sms.dataCoding).toBe(8);
    expect(sms.parts[0]?.subarray(-4).toString('hex')).toBe('d83dde91');
  });

  it('uses UCS-2 when forced, even for GSM text', () => {
    const sms = splitSms('Hi', { reference: 1, dataCoding: 8 });
    expect(sms.parts[0]?.toString('hex')).toBe('00480069');
  });
});

describe('splitSms limits', () => {
  it(`allows ${MAX_SMS_PARTS} parts and refuses more with a coded error`, () => {
    expect(splitSms('a'.repeat(153 * 255), { reference: 1 }).parts).toHaveLength(255);
    expect(() => splitSms('a'.repeat(153 * 255 + 1), { reference: 1 })).toThrow(ValidationError);
    try {
      splitSms('ж'.repeat(67 * 255 + 1), { reference: 1 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).code).toBe('invalid_request');
      expect((error as ValidationError).message).toContain('256 SMS parts');
    }
  });

  it.each([256, -1, 1.5])('refuses reference %d', (reference) => {
    expect(() => splitSms('Hi', { reference })).toThrow(ValidationError);
  });

  it('refuses forcing GSM-7 on text it cannot carry', () => {
    expect(() => splitSms('😀', { reference: 1, dataCoding: 0 })).toThrow(ValidationError);
  });
});

describe('describeSms', () => {
  it.each([
    ['empty', '', { encoding: 'GSM-7', parts: 1, charsPerPart: 160, length: 0, remainingInPart: 160, tooLong: false }],
    ['short GSM', 'Help is on the way', { encoding: 'GSM-7', parts: 1, charsPerPart: 160, length: 18, remainingInPart: 142, tooLong: false }],
    ['extension char counts 2', '5€', { encoding: 'GSM-7', parts: 1, charsPerPart: 160, length: 3, remainingInPart: 157, tooLong: false }],
    ['160 GSM', gsmText(160), { encoding: 'GSM-7', parts: 1, charsPerPart: 160, length: 160, remainingInPart: 0, tooLong: false }],
    ['161 GSM', gsmText(161), { encoding: 'GSM-7', parts: 2, charsPerPart: 153, length: 161, remainingInPart: 145, tooLong: false }],
    ['400 GSM', gsmText(400), { encoding: 'GSM-7', parts: 3, charsPerPart: 153, length: 400, remainingInPart: 59, tooLong: false }],
    ['extension at the boundary', `${gsmText(152)}€${gsmText(10)}`, { encoding: 'GSM-7', parts: 2, charsPerPart: 153, length: 164, remainingInPart: 141, tooLong: false }],
    ['short UCS-2 with emoji', 'OK 😀', { encoding: 'UCS-2', parts: 1, charsPerPart: 70, length: 5, remainingInPart: 65, tooLong: false }],
    ['71 UCS-2', 'ж'.repeat(71), { encoding: 'UCS-2', parts: 2, charsPerPart: 67, length: 71, remainingInPart: 63, tooLong: false }],
    ['400 UCS-2', 'ж'.repeat(400), { encoding: 'UCS-2', parts: 6, charsPerPart: 67, length: 400, remainingInPart: 2, tooLong: false }],
    ['256 parts of UCS-2', 'ж'.repeat(67 * 255 + 1), { encoding: 'UCS-2', parts: 256, charsPerPart: 67, length: 17086, remainingInPart: 66, tooLong: true }],
  ])('%s', (_name, text, expected) => {
    expect(describeSms(text)).toEqual(expected);
    if (!expected.tooLong) expect(splitSms(text, { reference: 1 }).parts).toHaveLength(expected.parts);
  });
});
