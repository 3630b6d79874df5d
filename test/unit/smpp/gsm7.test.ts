import { describe, expect, it } from 'vitest';
import {
  decodeGsm7,
  decodeGsm7Packed,
  encodeGsm7,
  encodeGsm7Packed,
  gsm7Length,
  isGsm7,
  packSeptets,
  unpackSeptets,
} from '../../../adapters/smpp/gsm7.ts';
import { ValidationError } from '../../../src/errors.ts';

const hex = (buf: Buffer): string => buf.toString('hex');

describe('GSM 03.38 basic table', () => {
  it.each([
    ['@', 0x00], ['£', 0x01], ['$', 0x02], ['¥', 0x03], ['è', 0x04], ['é', 0x05], ['Ç', 0x09], ['\n', 0x0a],
    ['Ø', 0x0b], ['\r', 0x0d], ['Å', 0x0e], ['Δ', 0x10], ['_', 0x11], ['Ξ', 0x1a], ['Æ', 0x1c], ['É', 0x1f],
    [' ', 0x20], ['¤', 0x24], ['0', 0x30], ['?', 0x3f], ['¡', 0x40], ['A', 0x41], ['Ä', 0x5b], ['Ü', 0x5e],
    ['§', 0x5f], ['¿', 0x60], ['a', 0x61], ['z', 0x7a], ['ä', 0x7b], ['ñ', 0x7d], ['à', 0x7f],
  ])('%j is septet %i and decodes back', (char, septet) => {
    expect([...encodeGsm7(char)]).toEqual([septet]);
    expect(decodeGsm7(Buffer.from([septet]))).toBe(char);
  });

  it('decodes every septet but the escape to one distinct character', () => {
    const chars = new Set<string>();
    for (let septet = 0; septet < 0x80; septet++) {
      if (septet === 0x1b) continue;
      const char = decodeGsm7(Buffer.from([septet]));
      expect(char).toHaveLength(1);
      chars.add(char);
      expect([...encodeGsm7(char)]).toEqual([septet]);
    }
    expect(chars.size).toBe(127);
  });
});

describe('GSM 03.38 extension table', () => {
  it.each([
    ['\f', '1b0a'], ['^', '1b14'], ['{', '1b28'], ['}', '1b29'], ['\\', '1b2f'],
    ['[', '1b3c'], ['~', '1b3d'], [']', '1b3e'], ['|', '1b40'], ['€', '1b65'],
  ])('%j is escape + code %s and counts two septets', (char, bytes) => {
    expect(hex(encodeGsm7(char))).toBe(bytes);
    expect(decodeGsm7(Buffer.from(bytes, 'hex'))).toBe(char);
    expect(gsm7Length(char)).toBe(2);
    expect(isGsm7(char)).toBe(true);
  });

  it('encodes a mixed sentence byte for byte', () => {
    const text = 'Cost: 5€ [ok] {x|y} ~^\\';
    const bytes = encodeGsm7(text);
    expect(hex(bytes)).toBe(
      '436f73743a2035' + '1b65' + '20' + '1b3c' + '6f6b' + '1b3e' + '20' + '1b28' + '78' + '1b40' + '79' + '1b29' + '20' + '1b3d' + '1b14' + '1b2f',
    );
    expect(gsm7Length(text)).toBe(bytes.length);
    expect(decodeGsm7(bytes)).toBe(text);
  });
});

describe('isGsm7 and gsm7Length', () => {
  it.each([
    ['', true, 0],
    ['Help, I am at 12 Main St.', true, 25],
    ['Ça va? Où es-tu?', true, 16],
    ['ç', false, 1],
    ['It’s me', false, 7], // curly apostrophe is not GSM
    ['Prix 5€', true, 8],
    ['SOS 😀', false, 5], // one code point counts one
    ['Ñandú', false, 5], // ú is not in the default alphabet
    ['ÄÖÜäöüß', true, 7],
  ])('%j → isGsm7 %s, %i septets', (text, fits, septets) => {
    expect(isGsm7(text)).toBe(fits);
    expect(gsm7Length(text)).toBe(septets);
  });
});

describe('encodeGsm7 refuses what it cannot carry', () => {
  it.each(['😀', 'ç', '’', 'ú'])('%j throws a coded ValidationError', (text) => {
    expect(() => encodeGsm7(`ok ${text}`)).toThrow(ValidationError);
    try {
      encodeGsm7(text);
    } catch (error) {
      expect((error as ValidationError).code).toBe('invalid_request');
      expect((error as ValidationError).field).toBe('text');
    }
  });
});

describe('decodeGsm7 never throws on bad input', () => {
  it.each([
    ['unknown escape shows the base character', '1b41', 'A'],
    ['ESC ESC (reserved) shows a space', '1b1b41', ' A'],
    ['trailing lone escape shows a space', '411b', 'A '],
    ['an octet above 0x7F is U+FFFD', '41ff42', 'A\ufffdB'],
    ['escape + high octet is U+FFFD', '1b80', '\ufffd'],
    ['empty', '', ''],
  ])('%s', (_name, bytes, text) => {
    expect(decodeGsm7(Buffer.from(bytes, 'hex'))).toBe(text);
  });
});

describe('packed septets', () => {
  it('packs "hellohello" to the textbook octets', () => {
    expect(hex(encodeGsm7Packed('hellohello'))).toBe('e8329bfd4697d9ec37');
    expect(decodeGsm7Packed(Buffer.from('e8329bfd4697d9ec37', 'hex'))).toBe('hellohello');
  });

  it('round-trips with fill bits after a UDH', () => {
    const packed = encodeGsm7Packed('Help €', 1);
    expect(decodeGsm7Packed(packed, { fillBits: 1, count: gsm7Length('Help €') })).toBe('Help €');
  });

  it('drops the zero padding of the 8n−1 case, unless a count is given', () => {
    const packed = packSeptets(encodeGsm7('abcdefg'));
    expect(packed).toHaveLength(7);
    expect(decodeGsm7Packed(packed)).toBe('abcdefg');
    expect(decodeGsm7(unpackSeptets(packed, { count: 8 }))).toBe('abcdefg@');
  });
});
