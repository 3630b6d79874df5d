import { describe, expect, it } from 'vitest';
import {
  binaryPlaceholder,
  chooseEncoding,
  decodeShortMessage,
  decodeUtf16Be,
  encodeText,
  toWellFormed,
} from '../../../adapters/smpp/encoding.ts';
import { ValidationError } from '../../../src/errors.ts';

const bytes = (hex: string): Buffer => Buffer.from(hex.replace(/\s+/g, ''), 'hex');

describe('decodeShortMessage', () => {
  it.each([
    ['DC 0: GSM-7 with extension characters', 0, '48656c70201b65201b3c1b3e201b3d1b14201b281b29201b40201b2f', 'Help € [] ~^ {} | \\'],
    ['DC 0: GSM-7 symbols that differ from ASCII', 0, '00 02 11 40 5b 5f 60 7f', '@$_¡Ä§¿à'],
    ['DC 0: a high octet means Latin-1 from the carrier', 0, '43 61 66 e9 20 24 40', 'Café $@'],
    ['DC 1: IA5/ASCII keeps ASCII symbols', 1, '24 40 5f 7b 7d', '$@_{}'],
    ['DC 3: Latin-1 accents', 3, '4e 69 f1 6f 20 73 65 f1 61 6c 20 fc 20 e7 61 20 e0', 'Niño señal ü ça à'],
    ['DC 8: UCS-2 with an emoji (surrogate pair)', 8, '0048 0065 006c 0070 0020 d83d de00 0020 20ac', 'Help 😀 €'],
    ['DC 8: Cyrillic', 8, '041f 043e 043c 043e 0433 0438 0442 0435', 'Помогите'],
    ['DC 8: odd trailing byte is U+FFFD', 8, '0041 00', 'A\ufffd'],
    ['DC 8: unpaired surrogate is U+FFFD', 8, 'd83d 0041', '\ufffdA'],
    ['DC 6: ISO-8859-5 Cyrillic', 6, 'bf e0 d8 d2 d5 e2', 'Привет'],
    ['DC 2: 8-bit binary', 2, '01 02 03', '[binary message, 3 bytes]'],
    ['DC 4: 8-bit binary', 4, 'ff ff', '[binary message, 2 bytes]'],
    ['DC 0x10: GSM DCS class 0 (flash), default alphabet', 0x10, '48 69 1b 65', 'Hi€'],
    ['DC 0x18: GSM DCS class 0, UCS-2', 0x18, 'd83d de00', '😀'],
    ['DC 0x34: GSM DCS compressed', 0x34, '00 11', '[binary message, 2 bytes]'],
    ['DC 0xC0: message waiting, default alphabet', 0xc0, '4f 4b', 'OK'],
    ['DC 0xE0: message waiting, UCS-2', 0xe0, '00e9', 'é'],
    ['DC 0xF0: message class, default alphabet', 0xf0, '4f 4b', 'OK'],
    ['DC 0xF4: message class, 8-bit data', 0xf4, '4f 4b', '[binary message, 2 bytes]'],
    ['DC 0x90: reserved group', 0x90, '4f', '[binary message, 1 bytes]'],
    ['empty body', 0, '', ''],
  ])('%s', (_name, dataCoding, hex, text) => {
    expect(decodeShortMessage(dataCoding, bytes(hex))).toBe(text);
  });

  it('reads DC 0 as Latin-1 when the link says the SMSC default is Latin-1', () => {
    expect(decodeShortMessage(0, bytes('24 40 5f 5b 5d'), { smscDefaultAlphabet: 'latin1' })).toBe('$@_[]');
    expect(decodeShortMessage(0, bytes('24 40 5f 5b 5d'))).toBe('¤¡§ÄÑ');
  });

  it('reads DC 1 as GSM-7 when the peer sends GSM text as 1 (node-smpp does)', () => {
    expect(decodeShortMessage(1, bytes('00 1b65'), { ia5Alphabet: 'gsm7' })).toBe('@€');
    expect(decodeShortMessage(1, bytes('00 1b65'))).toBe('\u0000\u001be');
  });

  it('decodes a view into a larger buffer without reading outside it', () => {
    const whole = bytes('ff 0048 0069 ff');
    expect(decodeShortMessage(8, whole.subarray(1, 5))).toBe('Hi');
    expect(decodeUtf16Be(whole.subarray(1, 5))).toBe('Hi');
  });

  it('says how big an undecodable body is', () => {
    expect(binaryPlaceholder(140)).toBe('[binary message, 140 bytes]');
  });
});

describe('toWellFormed', () => {
  it.each([
    ['abc', 'abc'],
    ['😀', '😀'],
    ['a\ud83d', 'a\ufffd'],
    ['\ude00b', '\ufffdb'],
    ['\ude00\ud83d', '\ufffd\ufffd'],
    ['x\ud83d\ude00\ud83dy', 'x😀\ufffdy'],
  ])('%j → %j', (input, output) => {
    expect(toWellFormed(input)).toBe(output);
  });
});

describe('chooseEncoding and encodeText', () => {
  it.each([
    ['Help me', 0, 'GSM-7', 7],
    ['5€ [x]', 0, 'GSM-7', 9],
    ['Café à 5€', 0, 'GSM-7', 10],
    ['Ça va', 0, 'GSM-7', 5],
    ['ça va', 8, 'UCS-2', 5],
    ['On my way 😀', 8, 'UCS-2', 12],
    ['It’s OK', 8, 'UCS-2', 7],
    ['', 0, 'GSM-7', 0],
  ] as const)('%j → data_coding %i (%s), length %i', (text, dataCoding, encoding, length) => {
    expect(chooseEncoding(text)).toEqual({ dataCoding, encoding, length });
  });

  it.each([
    ['A€', 0, '411b65'],
    ['é@', 0, '0500'],
    ['😀', 8, 'd83dde00'],
    ['é€', 8, '00e920ac'],
    ['a\ud83d', 8, '0061fffd'],
  ] as const)('%j as %i → %s', (text, dataCoding, hex) => {
    expect(encodeText(text, dataCoding).toString('hex')).toBe(hex);
  });

  it('refuses GSM-7 for text it cannot carry', () => {
    expect(() => encodeText('😀', 0)).toThrow(ValidationError);
  });

  it('round-trips Latin-1 accents and emoji through UCS-2', () => {
    const text = 'Àéîõü ñ ç 😀🚑';
    expect(decodeShortMessage(8, encodeText(text, 8))).toBe(text);
  });
});
