import { describe, expect, it } from 'vitest';
import { buildConcatUdh, concatFromSar, concatFromUdh, extractPart, parseUdh } from '../../../adapters/smpp/udh.ts';
import { ValidationError } from '../../../src/errors.ts';

const bytes = (hex: string): Buffer => Buffer.from(hex.replace(/\s+/g, ''), 'hex');

describe('parseUdh', () => {
  it('splits the 8-bit concatenation header from the payload', () => {
    const parsed = parseUdh(bytes('05 00 03 2a 03 01 48 69'));
    expect(parsed.malformed).toBe(false);
    expect(parsed.elements.map((e) => [e.iei, e.data.toString('hex')])).toEqual([[0x00, '2a0301']]);
    expect(parsed.payload.toString('hex')).toBe('4869');
  });

  it('reads every element, e.g. application ports before the concatenation element', () => {
    const parsed = parseUdh(bytes('0b 05 04 0b84 23f0 00 03 7f 02 01 41'));
    expect(parsed.elements.map((e) => [e.iei, e.data.toString('hex')])).toEqual([
      [0x05, '0b8423f0'],
      [0x00, '7f0201'],
    ]);
    expect(concatFromUdh(parsed.elements)).toEqual({ kind: 'udh8', reference: 0x7f, total: 2, sequence: 1 });
    expect(parsed.payload.toString('hex')).toBe('41');
  });

  it('keeps the whole body as payload when the header length runs past the end', () => {
    const body = bytes('09 00 03 01 02 01 41');
    const parsed = parseUdh(body);
    expect(parsed).toMatchObject({ elements: [], malformed: true });
    expect(parsed.payload.toString('hex')).toBe(body.toString('hex'));
  });

  it('stops at an element running past the header, payload still after the header', () => {
    const parsed = parseUdh(bytes('04 24 01 00 07 41 42'));
    expect(parsed.malformed).toBe(true);
    expect(parsed.elements.map((e) => e.iei)).toEqual([0x24]);
    expect(parsed.payload.toString('hex')).toBe('4142');
  });

  it('flags an empty body', () => {
    expect(parseUdh(Buffer.alloc(0))).toMatchObject({ elements: [], malformed: true });
  });
});

describe('concatFromUdh', () => {
  it.each([
    ['8-bit reference', [[0x00, '2a0302']], { kind: 'udh8', reference: 42, total: 3, sequence: 2 }],
    ['16-bit reference', [[0x08, '12340302']], { kind: 'udh16', reference: 0x1234, total: 3, sequence: 2 }],
    ['first valid element wins', [[0x00, '010000'], [0x08, 'beef0201']], { kind: 'udh16', reference: 0xbeef, total: 2, sequence: 1 }],
    ['sequence 0 is ignored', [[0x00, '2a0300']], undefined],
    ['sequence above total is ignored', [[0x00, '2a0204']], undefined],
    ['total 0 is ignored', [[0x00, '2a0000']], undefined],
    ['wrong element length is ignored', [[0x00, '2a03']], undefined],
    ['no concatenation element', [[0x24, '01']], undefined],
  ] as const)('%s', (_name, elements, expected) => {
    expect(concatFromUdh(elements.map(([iei, hex]) => ({ iei, data: bytes(hex) })))).toEqual(expected);
  });
});

describe('concatFromSar', () => {
  it.each([
    ['all three TLVs', { sarMsgRefNum: 300, sarTotalSegments: 3, sarSegmentSeqnum: 2 }, { kind: 'sar', reference: 300, total: 3, sequence: 2 }],
    ['one missing', { sarMsgRefNum: 300, sarTotalSegments: 3 }, undefined],
    ['not numbers', { sarMsgRefNum: '1', sarTotalSegments: 3, sarSegmentSeqnum: 1 }, undefined],
    ['sequence above total', { sarMsgRefNum: 1, sarTotalSegments: 2, sarSegmentSeqnum: 3 }, undefined],
    ['reference out of range', { sarMsgRefNum: 70000, sarTotalSegments: 2, sarSegmentSeqnum: 1 }, undefined],
  ])('%s', (_name, fields, expected) => {
    expect(concatFromSar(fields)).toEqual(expected);
  });
});

describe('extractPart', () => {
  it('strips the UDH when esm_class has UDHI', () => {
    const part = extractPart({ esmClass: 0x40, shortMessage: bytes('06 08 04 beef 03 03 4869') });
    expect(part.payload.toString('hex')).toBe('4869');
    expect(part.concat).toEqual({ kind: 'udh16', reference: 0xbeef, total: 3, sequence: 3 });
  });

  it('leaves a body alone without UDHI, even if it looks like a header', () => {
    const part = extractPart({ esmClass: 0x00, shortMessage: bytes('05 00 03 2a 03 01 48') });
    expect(part.payload.toString('hex')).toBe('0500032a030148');
    expect(part.concat).toBeUndefined();
  });

  it('reads SAR TLVs when there is no UDH', () => {
    const part = extractPart({ esmClass: 0, shortMessage: bytes('4869'), sarMsgRefNum: 7, sarTotalSegments: 2, sarSegmentSeqnum: 2 });
    expect(part).toEqual({ payload: bytes('4869'), concat: { kind: 'sar', reference: 7, total: 2, sequence: 2 } });
  });

  it('prefers the UDH over SAR TLVs', () => {
    const part = extractPart({ esmClass: 0x40, shortMessage: bytes('05 00 03 01 02 02 41'), sarMsgRefNum: 9, sarTotalSegments: 3, sarSegmentSeqnum: 1 });
    expect(part.concat).toEqual({ kind: 'udh8', reference: 1, total: 2, sequence: 2 });
  });

  it('takes message_payload when short_message is empty', () => {
    const part = extractPart({ esmClass: 0, shortMessage: Buffer.alloc(0), messagePayload: bytes('414243') });
    expect(part.payload.toString()).toBe('ABC');
  });

  it('treats a "concatenated" message of one part as a single message', () => {
    expect(extractPart({ esmClass: 0x40, shortMessage: bytes('05 00 03 2a 01 01 41') }).concat).toBeUndefined();
  });

  it('keeps other elements, such as a national language shift', () => {
    const part = extractPart({ esmClass: 0x40, shortMessage: bytes('03 25 01 01 41') });
    expect(part.udh?.map((e) => e.iei)).toEqual([0x25]);
    expect(part.concat).toBeUndefined();
  });

  it('returns an empty payload when there is no body at all', () => {
    expect(extractPart({ esmClass: 0 }).payload).toHaveLength(0);
  });
});

describe('buildConcatUdh', () => {
  it('writes 05 00 03 ref total seq', () => {
    expect(buildConcatUdh(0xa7, 3, 2).toString('hex')).toBe('050003a70302');
  });

  it.each([
    [256, 2, 1],
    [-1, 2, 1],
    [1, 0, 1],
    [1, 2, 3],
    [1, 256, 1],
    [1.5, 2, 1],
  ])('refuses reference %d, part %d of %d', (reference, total, sequence) => {
    expect(() => buildConcatUdh(reference, total, sequence)).toThrow(ValidationError);
  });
});
