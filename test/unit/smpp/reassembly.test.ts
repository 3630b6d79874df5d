import { describe, expect, it } from 'vitest';
import { encodeGsm7 } from '../../../adapters/smpp/gsm7.ts';
import { Reassembler, type InboundPart, type ReassemblerOptions } from '../../../adapters/smpp/reassembly.ts';
import { splitSms } from '../../../adapters/smpp/split.ts';
import { extractPart, type ConcatInfo } from '../../../adapters/smpp/udh.ts';
import { ValidationError } from '../../../src/errors.ts';

const gsm = (text: string): Buffer => encodeGsm7(text);

/** A part of message `reference` (8-bit UDH unless said otherwise) from +15551234567 to 911 on link L1. */
function part(sequence: number, total: number, payload: Buffer, extra: Omit<Partial<InboundPart>, 'concat'> & { concat?: Partial<ConcatInfo> } = {}): InboundPart {
  const { concat, ...rest } = extra;
  return {
    partId: `pdu-${sequence}`,
    linkId: 'L1',
    source: '+15551234567',
    destination: '911',
    dataCoding: 0,
    payload,
    concat: { kind: 'udh8', reference: 42, total, sequence, ...concat },
    ...rest,
  };
}

function reassembler(options: ReassemblerOptions = {}): { r: Reassembler; clock: { t: number } } {
  const clock = { t: 1_000 };
  return { r: new Reassembler({ now: () => clock.t, ...options }), clock };
}

describe('Reassembler: complete messages', () => {
  it('joins three parts arriving out of order, once, when the last one arrives', () => {
    const { r } = reassembler();
    expect(r.accept(part(3, 3, gsm(' please.')))).toEqual({ outcome: 'pending', ready: [] });
    expect(r.accept(part(1, 3, gsm('Intruder in the house,')))).toEqual({ outcome: 'pending', ready: [] });
    expect(r.pendingCount).toBe(1);
    expect(r.pendingBytes).toBe(30);
    const done = r.accept(part(2, 3, gsm(' send help')));
    expect(done.outcome).toBe('completed');
    expect(done.ready).toHaveLength(1);
    expect(done.ready[0]).toMatchObject({
      text: 'Intruder in the house, send help please.',
      complete: true,
      reason: 'complete',
      concat: { kind: 'udh8', reference: 42, total: 3 },
      received: [1, 2, 3],
      missing: [],
      partIds: ['pdu-3', 'pdu-1', 'pdu-2'],
      firstReceivedAt: 1_000,
      linkId: 'L1',
      source: '+15551234567',
      destination: '911',
    });
    expect(done.ready[0]?.key).toMatch(/^udh8:42:3:[0-9a-f]{32}$/);
    expect(r.pendingCount).toBe(0);
    expect(r.pendingBytes).toBe(0);
  });

  it('ignores a repeated part while waiting, but keeps its id for acknowledgement', () => {
    const { r } = reassembler();
    r.accept(part(1, 2, gsm('Help ')));
    expect(r.accept({ ...part(1, 2, gsm('XXXXX')), partId: 'pdu-1-again' })).toEqual({ outcome: 'repeat-pending', ready: [] });
    const { ready } = r.accept(part(2, 2, gsm('me')));
    expect(ready[0]).toMatchObject({ text: 'Help me', partIds: ['pdu-1', 'pdu-1-again', 'pdu-2'] });
  });

  it('answers a part repeated after delivery with the same message and key, never a fragment', () => {
    const { r, clock } = reassembler();
    r.accept(part(1, 2, gsm('Help ')));
    const first = r.accept(part(2, 2, gsm('me'))).ready[0];
    clock.t += 5_000;
    const again = r.accept({ ...part(2, 2, gsm('me')), partId: 'pdu-2-resent' });
    expect(again.outcome).toBe('repeat-delivered');
    expect(again.ready).toEqual([{ ...first, reason: 'repeat', partIds: ['pdu-2-resent'] }]);
    expect(r.pendingCount).toBe(0);
  });

  it('gives the same key when a carrier re-sends all parts after the repeat memory is gone', () => {
    const { r, clock } = reassembler({ rememberMs: 60_000 });
    r.accept(part(1, 2, gsm('Help ')));
    const first = r.accept(part(2, 2, gsm('me'))).ready[0];
    clock.t += 120_000;
    expect(r.expire()).toEqual([]);
    r.accept({ ...part(2, 2, gsm('me')), partId: 'b' });
    const second = r.accept({ ...part(1, 2, gsm('Help ')), partId: 'a' }).ready[0];
    expect(second?.reason).toBe('complete');
    expect(second?.key).toBe(first?.key);
  });

  it('gives different keys to different messages that reuse a reference', () => {
    const { r } = reassembler({ rememberMs: 1 });
    r.accept(part(1, 2, gsm('Help ')));
    const a = r.accept(part(2, 2, gsm('me'))).ready[0];
    r.accept(part(1, 2, gsm('Fire ')), 10);
    const b = r.accept(part(2, 2, gsm('here')), 10).ready[0];
    expect(b?.text).toBe('Fire here');
    expect(b?.key).not.toBe(a?.key);
  });

  it('keeps messages apart by link, sender, recipient and reference', () => {
    const { r } = reassembler();
    const outcomes = [
      r.accept(part(1, 2, gsm('a'))),
      r.accept(part(1, 2, gsm('b'), { linkId: 'L2' })),
      r.accept(part(1, 2, gsm('c'), { source: '+15550000000' })),
      r.accept(part(1, 2, gsm('d'), { destination: '912' })),
      r.accept(part(1, 2, gsm('e'), { concat: { reference: 43 } })),
      r.accept(part(1, 2, gsm('f'), { concat: { kind: 'udh16' } })),
    ];
    expect(outcomes.map((o) => o.outcome)).toEqual(Array(6).fill('pending'));
    expect(r.pendingCount).toBe(6);
  });

  it('reassembles 16-bit reference UDH parts from raw short messages', () => {
    const { r } = reassembler();
    const bodies = ['06 08 04 a1b2 02 02 2c 20 6d 65', '06 08 04 a1b2 02 01 48 65 6c 70'];
    const results = bodies.map((hex, i) => {
      const { payload, concat } = extractPart({ esmClass: 0x40, shortMessage: Buffer.from(hex.replace(/ /g, ''), 'hex') });
      return r.accept({ partId: `p${i}`, linkId: 'L1', source: 's', destination: 'd', dataCoding: 0, payload, ...(concat ? { concat } : {}) });
    });
    expect(results[1]?.ready[0]).toMatchObject({ text: 'Help, me', concat: { kind: 'udh16', reference: 0xa1b2, total: 2 } });
  });

  it('reassembles SAR TLV parts', () => {
    const { r } = reassembler();
    const sar = (sequence: number, text: string): InboundPart => {
      const { payload, concat } = extractPart({ esmClass: 0, shortMessage: gsm(text), sarMsgRefNum: 513, sarTotalSegments: 2, sarSegmentSeqnum: sequence });
      return { partId: `s${sequence}`, linkId: 'L1', source: 's', destination: 'd', dataCoding: 0, payload, ...(concat ? { concat } : {}) };
    };
    r.accept(sar(2, 'floor 3'));
    const { ready } = r.accept(sar(1, 'Smoke on '));
    expect(ready[0]).toMatchObject({ text: 'Smoke on floor 3', concat: { kind: 'sar', reference: 513, total: 2 } });
    expect(ready[0]?.key).toMatch(/^sar:513:2:/);
  });

  it('decodes after joining, so an emoji split across UCS-2 parts survives', () => {
    const { r } = reassembler();
    r.accept(part(2, 2, Buffer.from('de000021', 'hex'), { dataCoding: 8 }));
    const { ready } = r.accept(part(1, 2, Buffer.from('00480069d83d', 'hex'), { dataCoding: 8 }));
    expect(ready[0]?.text).toBe('Hi😀!');
  });

  it('decodes after joining, so a GSM-7 escape at the end of a part still gives its character', () => {
    const { r } = reassembler();
    r.accept(part(1, 2, Buffer.from('35201b', 'hex')));
    expect(r.accept(part(2, 2, Buffer.from('6520', 'hex'))).ready[0]?.text).toBe('5 € ');
  });

  it('decodes parts with different data codings separately', () => {
    const { r } = reassembler();
    r.accept(part(1, 2, gsm('Caf'), { dataCoding: 0 }));
    expect(r.accept(part(2, 2, Buffer.from('00e9', 'hex'), { dataCoding: 8 })).ready[0]?.text).toBe('Café');
  });

  it('passes a single message straight through with the caller id as key', () => {
    const { r } = reassembler();
    const result = r.accept({ partId: 'L1:seq:77', linkId: 'L1', source: 's', destination: 'd', dataCoding: 3, payload: Buffer.from('4e69f16f', 'hex') });
    expect(result).toEqual({
      outcome: 'single',
      ready: [{ key: 'L1:seq:77', linkId: 'L1', source: 's', destination: 'd', text: 'Niño', complete: true, reason: 'single', received: [1], missing: [], partIds: ['L1:seq:77'], firstReceivedAt: 1_000 }],
    });
  });

  it('round-trips what splitSms produces, parts in reverse order', () => {
    for (const text of ['Stay on the line. '.repeat(22) + '€[]', 'Ambulance 🚑 on the way. '.repeat(12)]) {
      const { r } = reassembler();
      const sms = splitSms(text, { reference: 9 });
      const results = [...sms.parts].reverse().map((body, i) => {
        const { payload, concat } = extractPart({ esmClass: sms.esmClass, shortMessage: body });
        return r.accept({ partId: `${i}`, linkId: 'L1', source: 's', destination: 'd', dataCoding: sms.dataCoding, payload, ...(concat ? { concat } : {}) });
      });
      expect(results.at(-1)?.ready[0]?.text).toBe(text);
      expect(results.map((x) => x.outcome)).toEqual([...Array(sms.parts.length - 1).fill('pending'), 'completed']);
    }
  });
});

describe('Reassembler: missing parts are delivered, never dropped', () => {
  it('delivers what arrived with a gap marker after the timeout', () => {
    const { r, clock } = reassembler({ timeoutMs: 30_000 });
    r.accept(part(1, 3, gsm('Man with a knife ')));
    clock.t += 10_000;
    r.accept(part(3, 3, gsm(' door')));
    expect(r.nextDeadline()).toBe(31_000);
    expect(r.expire(30_999)).toEqual([]);
    const [message] = r.expire(31_000);
    expect(message).toMatchObject({
      text: 'Man with a knife […part 2 of 3 missing…] door',
      complete: false,
      reason: 'timeout',
      received: [1, 3],
      missing: [2],
      partIds: ['pdu-1', 'pdu-3'],
    });
    expect(message?.key).toMatch(/^udh8:42:3:[0-9a-f]{32}$/);
    expect(r.pendingCount).toBe(0);
    expect(r.nextDeadline()).toBeUndefined();
  });

  it.each([
    ['leading gap', [2], 2, '[…part 1 of 2 missing…]B'],
    ['trailing run', [1], 5, 'A[…parts 2–5 of 5 missing…]'],
    ['two gaps', [2, 4], 5, '[…part 1 of 5 missing…]B[…part 3 of 5 missing…]D[…part 5 of 5 missing…]'],
  ])('marks a %s', (_name, present, total, text) => {
    const { r } = reassembler({ timeoutMs: 1 });
    for (const sequence of present) r.accept(part(sequence, total, gsm(String.fromCharCode(64 + sequence))), 0);
    expect(r.expire(1)[0]?.text).toBe(text);
  });

  it('uses a custom gap marker', () => {
    const { r } = reassembler({ timeoutMs: 1, gapMarker: (first, last, total) => `<${first}-${last}/${total}>` });
    r.accept(part(1, 3, gsm('a')), 0);
    expect(r.expire(5)[0]?.text).toBe('a<2-3/3>');
  });

  it('also delivers timed-out messages when the next part arrives, oldest first', () => {
    const { r, clock } = reassembler({ timeoutMs: 1_000 });
    r.accept(part(1, 2, gsm('old')));
    clock.t += 2_000;
    const { outcome, ready } = r.accept({ partId: 'x', linkId: 'L1', source: 's', destination: 'd', dataCoding: 0, payload: gsm('new') });
    expect(outcome).toBe('single');
    expect(ready.map((m) => [m.reason, m.text])).toEqual([
      ['timeout', 'old[…part 2 of 2 missing…]'],
      ['single', 'new'],
    ]);
  });

  it('completes a late message when its last part arrives before expiry runs', () => {
    const { r, clock } = reassembler({ timeoutMs: 1_000 });
    r.accept(part(1, 2, gsm('Help ')));
    clock.t += 5_000;
    expect(r.accept(part(2, 2, gsm('me'))).ready.map((m) => [m.reason, m.text])).toEqual([['complete', 'Help me']]);
  });

  it('delivers a part arriving after its message timed out as its own partial message', () => {
    const { r, clock } = reassembler({ timeoutMs: 1_000 });
    r.accept(part(1, 2, gsm('Help ')));
    clock.t += 1_000;
    const first = r.expire()[0];
    expect(r.accept(part(2, 2, gsm('me'))).outcome).toBe('pending');
    clock.t += 1_000;
    const late = r.expire()[0];
    expect(late?.text).toBe('[…part 1 of 2 missing…]me');
    expect(late?.key).not.toBe(first?.key);
  });

  it('flushes the oldest incomplete message when too many are pending', () => {
    const { r, clock } = reassembler({ maxPending: 2 });
    r.accept(part(1, 2, gsm('first'), { concat: { reference: 1 } }));
    clock.t += 1;
    r.accept(part(1, 2, gsm('second'), { concat: { reference: 2 } }));
    clock.t += 1;
    const { outcome, ready } = r.accept(part(1, 2, gsm('third'), { concat: { reference: 3 } }));
    expect(outcome).toBe('pending');
    expect(ready).toHaveLength(1);
    expect(ready[0]).toMatchObject({ reason: 'overflow', text: 'first[…part 2 of 2 missing…]', concat: { reference: 1 }, complete: false });
    expect(r.pendingCount).toBe(2);
  });

  it('flushes the oldest incomplete messages when the byte budget is exceeded', () => {
    const { r } = reassembler({ maxBytes: 10 });
    r.accept(part(1, 2, gsm('aaaa'), { concat: { reference: 1 } }));
    r.accept(part(1, 2, gsm('bbbb'), { concat: { reference: 2 } }));
    const { ready } = r.accept(part(1, 2, gsm('cccc'), { concat: { reference: 3 } }));
    expect(ready.map((m) => [m.reason, m.text])).toEqual([['overflow', 'aaaa[…part 2 of 2 missing…]']]);
    expect(r.pendingBytes).toBe(8);
  });

  it('delivers everything held on shutdown', () => {
    const { r } = reassembler();
    r.accept(part(2, 3, gsm('b'), { concat: { reference: 1 } }));
    r.accept(part(1, 2, gsm('x'), { concat: { reference: 2 } }));
    expect(r.flushAll().map((m) => [m.reason, m.text])).toEqual([
      ['shutdown', '[…part 1 of 3 missing…]b[…part 3 of 3 missing…]'],
      ['shutdown', 'x[…part 2 of 2 missing…]'],
    ]);
    expect(r.pendingCount).toBe(0);
  });

  it('refuses nonsensical settings with a coded error', () => {
    expect(() => new Reassembler({ timeoutMs: 0 })).toThrow(ValidationError);
    expect(() => new Reassembler({ maxBytes: Number.NaN })).toThrow(ValidationError);
  });
});
