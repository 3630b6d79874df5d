/**
 * The GSM-7 and UCS-2 encoders on thousands of random texts (lone
 * surrogates, emoji, every extension character): counting never throws,
 * chunks add up to the text, and encode → decode round-trips.
 */
import { describe, expect, it } from 'vitest';
import { decodeShortMessage, encodeText, toWellFormed } from '../../../adapters/smpp/encoding.ts';
import { decodeGsm7, encodeGsm7 } from '../../../adapters/smpp/gsm7.ts';
import { chunkSms, describeSms, GSM7_BASIC_TABLE, GSM7_EXTENSION_TABLE, gsm7Length, isGsm7, smsEncodingOf } from '../../../src/domain/sms.ts';
import { ValidationError } from '../../../src/errors.ts';
import { seeded, watchUnhandledRejections, type Prng } from './support.ts';

watchUnhandledRejections();

// Not the escape code itself: it is how an extension character is written, not a character.
const GSM = [...GSM7_BASIC_TABLE].filter((c) => c !== '\u001b');
const EXTENSION = [...GSM7_EXTENSION_TABLE.values()];
const OTHER = ['ç', '’', 'ж', '中', '😀', '👍🏽', '\u00a0', '\ud800', '\udfff', '\u0000', '\u200d', '\ufeff'];

function randomText(prng: Prng): string {
  const mix = prng.int(0, 3);
  let text = '';
  for (let i = prng.int(0, 400); i > 0; i--) {
    const roll = prng.next();
    if (mix === 3) text += String.fromCharCode(prng.int(0, 0xffff));
    else text += prng.pick(roll < 0.85 || mix === 0 ? GSM : roll < 0.95 || mix === 1 ? EXTENSION : OTHER);
  }
  return text;
}

describe('SMS encoders fuzz', () => {
  it('counts, chunks and round-trips every random text', () => {
    const prng = seeded('sms-encoding');
    let gsm = 0;
    for (let round = 0; round < 5000; round++) {
      const text = randomText(prng);
      const encoding = smsEncodingOf(text);
      const chunks = chunkSms(text, encoding);
      expect(chunks.texts.join('')).toBe(text);
      expect(chunks.texts.length).toBeGreaterThanOrEqual(1);
      const described = describeSms(text);
      expect(described.encoding).toBe(encoding);
      if (isGsm7(text)) {
        gsm++;
        expect(encoding).toBe('GSM-7');
        const bytes = encodeGsm7(text);
        expect(bytes.length).toBe(gsm7Length(text));
        expect(decodeGsm7(bytes)).toBe(text);
        expect(decodeShortMessage(0, encodeText(text, 0))).toBe(text);
      } else {
        expect(() => encodeGsm7(text)).toThrow(ValidationError);
      }
      // UCS-2 carries any text; a lone surrogate arrives as U+FFFD.
      expect(decodeShortMessage(8, encodeText(text, 8))).toBe(toWellFormed(text));
    }
    expect(gsm).toBeGreaterThan(800);
  });
});
