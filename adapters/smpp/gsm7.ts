/**
 * The GSM 03.38 (3GPP TS 23.038) default alphabet and its basic extension
 * table, as SMPP carries it with `data_coding` 0: unpacked, one septet per
 * octet. Packed helpers are here too for the rare peer that sends packed
 * septets.
 *
 * Decoding never throws: a bad octet becomes U+FFFD, an escape to an unknown
 * extension code shows the base-table character (the rule 23.038 gives to
 * handsets). Encoding refuses text the alphabet cannot carry instead of
 * substituting characters, because a silently altered emergency reply is
 * worse than one sent as UCS-2.
 */
import { ValidationError } from '../../src/errors.ts';
import {
  GSM7_BASIC_ENCODE as BASIC_ENCODE,
  GSM7_BASIC_TABLE as BASIC_TABLE,
  GSM7_ESCAPE,
  GSM7_EXTENSION_ENCODE as EXTENSION_ENCODE,
  GSM7_EXTENSION_TABLE as EXTENSION_TABLE,
} from '../../src/domain/sms.ts';

// The alphabet and septet counting live in src/domain/sms.ts (shared with the console's reply box).
export { GSM7_ESCAPE, gsm7CharSeptets, gsm7Length, isGsm7 } from '../../src/domain/sms.ts';

const REPLACEMENT = '\ufffd';

/**
 * Encodes `text` as unpacked septets (one per byte), extension characters as
 * 0x1B + code.
 * @throws ValidationError when a character is not representable.
 */
export function encodeGsm7(text: string): Buffer {
  const out: number[] = [];
  for (const char of text) {
    const basic = BASIC_ENCODE.get(char);
    if (basic !== undefined) {
      out.push(basic);
      continue;
    }
    const extension = EXTENSION_ENCODE.get(char);
    if (extension === undefined) {
      const code = char.codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0');
      throw new ValidationError(`character U+${code} is not in the GSM 03.38 alphabet`, 'text');
    }
    out.push(GSM7_ESCAPE, extension);
  }
  return Buffer.from(out);
}

/**
 * Decodes unpacked septets. Never throws:
 * - an octet above 0x7F is not a septet and becomes U+FFFD;
 * - 0x1B + an undefined extension code shows that code's base-table
 *   character (23.038 §6.2.1.1);
 * - 0x1B 0x1B (reserved for a further table) and a trailing lone 0x1B show a
 *   space, as 23.038 asks for the reserved code.
 */
export function decodeGsm7(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i++) {
    const septet = bytes[i] ?? 0;
    if (septet > 0x7f) {
      text += REPLACEMENT;
      continue;
    }
    if (septet !== GSM7_ESCAPE) {
      text += BASIC_TABLE[septet];
      continue;
    }
    const next = bytes[i + 1];
    if (next === undefined || next === GSM7_ESCAPE) {
      text += ' ';
      i++;
      continue;
    }
    i++;
    if (next > 0x7f) text += REPLACEMENT;
    else text += EXTENSION_TABLE.get(next) ?? BASIC_TABLE[next];
  }
  return text;
}

/**
 * Packs septets 8-into-7 octets, least significant bit first (23.038 §6.1.2.1).
 * `fillBits` (0–6) leading zero bits align the text after a UDH.
 */
export function packSeptets(septets: Uint8Array, fillBits = 0): Buffer {
  fillBits = clampInteger(fillBits, 0, 7, 0);
  const totalBits = fillBits + septets.length * 7;
  const out = Buffer.alloc(Math.ceil(totalBits / 8));
  let bit = fillBits;
  for (const septet of septets) {
    const value = septet & 0x7f;
    const byte = bit >> 3;
    const shift = bit & 7;
    out[byte] = (out[byte] ?? 0) | ((value << shift) & 0xff);
    if (shift > 1) out[byte + 1] = (out[byte + 1] ?? 0) | (value >> (8 - shift));
    bit += 7;
  }
  return out;
}

/**
 * Unpacks septets from packed octets. Without `count`, a final all-zero
 * septet that only fills the last octet is dropped (the 8n−1 ambiguity of
 * 23.038 §6.1.2.3.1; senders are meant to pad with CR, many pad with 0).
 */
export function unpackSeptets(packed: Uint8Array, options: { fillBits?: number; count?: number } = {}): Buffer {
  const fillBits = clampInteger(options.fillBits, 0, 7, 0);
  const available = Math.max(Math.floor((packed.length * 8 - fillBits) / 7), 0);
  let count = clampInteger(options.count, 0, available, available);
  const out = Buffer.alloc(count);
  for (let i = 0; i < count; i++) {
    const bit = fillBits + i * 7;
    const byte = bit >> 3;
    const shift = bit & 7;
    const word = (packed[byte] ?? 0) | ((packed[byte + 1] ?? 0) << 8);
    out[i] = (word >> shift) & 0x7f;
  }
  if (options.count === undefined && count > 0 && out[count - 1] === 0 && (packed.length * 8 - fillBits) % 7 === 0) {
    count--;
  }
  return out.subarray(0, count);
}

function clampInteger(value: number | undefined, min: number, max: number, fallback: number): number {
  if (value === undefined || !Number.isFinite(value)) return fallback;
  return Math.min(Math.max(Math.trunc(value), min), max);
}

/** Encodes `text` as packed GSM-7. @throws ValidationError when a character is not representable. */
export function encodeGsm7Packed(text: string, fillBits = 0): Buffer {
  return packSeptets(encodeGsm7(text), fillBits);
}

/** Decodes packed GSM-7; never throws (see {@link unpackSeptets} and {@link decodeGsm7}). */
export function decodeGsm7Packed(packed: Uint8Array, options: { fillBits?: number; count?: number } = {}): string {
  return decodeGsm7(unpackSeptets(packed, options));
}
