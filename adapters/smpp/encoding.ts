/**
 * SMPP `data_coding` ↔ text. Inbound decoding never throws: whatever a
 * carrier sends becomes a string an agent can read, with U+FFFD for what
 * cannot be decoded and a visible placeholder for binary content.
 *
 * `data_coding` values 0x00–0x0F follow SMPP 3.4 §5.2.19. Higher values are
 * read as a GSM 03.38 data coding scheme (some SMSCs pass the DCS through,
 * e.g. 0x10/0x18 for class-0 "flash" GSM-7/UCS-2), by coding group.
 */
import type { SmsEncodingName } from '../../src/domain/sms.ts';
import { decodeGsm7, encodeGsm7, gsm7Length, isGsm7 } from './gsm7.ts';

/** The alphabets Lifeline sends in: GSM-7 (`data_coding` 0) or UCS-2 (8). */
export type SmsDataCoding = 0 | 8;

export type { SmsEncodingName };

/**
 * What `data_coding` 0 ("SMSC default alphabet") means on a link. GSM
 * carriers mean GSM 03.38; some (notably North American) SMSCs mean ASCII or
 * Latin-1. A per-link setting, defaulting to `'gsm7'`.
 */
export type SmscDefaultAlphabet = 'gsm7' | 'latin1';

/** What `data_coding` 1 (IA5) holds: ASCII per the spec, GSM 03.38 from some peers (node-smpp sends GSM-7 as 1). */
export type Ia5Alphabet = 'ascii' | 'gsm7';

/** Per-link decoding choices; the defaults follow the SMPP 3.4 specification. */
export interface DecodeOptions {
  smscDefaultAlphabet?: SmscDefaultAlphabet;
  ia5Alphabet?: Ia5Alphabet;
}

/** The text shown for content that is not text (8-bit data, compressed, unknown alphabet). */
export function binaryPlaceholder(byteLength: number): string {
  return `[binary message, ${byteLength} bytes]`;
}

/** Single-byte and multibyte legacy charsets SMPP names, decoded with the platform's TextDecoder. */
const LEGACY_CHARSETS: ReadonlyMap<number, string> = new Map([
  [0x06, 'iso-8859-5'],
  [0x07, 'iso-8859-8'],
  [0x0a, 'iso-2022-jp'],
  [0x0e, 'euc-kr'],
]);

type Alphabet = 'gsm7' | 'ascii' | 'latin1' | 'ucs2' | 'binary' | { charset: string };

/** Which alphabet a `data_coding` value selects; see the module comment. */
function alphabetOf(dataCoding: number, options: DecodeOptions): Alphabet {
  const dc = dataCoding & 0xff;
  if (dc === 0x00) return options.smscDefaultAlphabet ?? 'gsm7';
  if (dc === 0x01) return options.ia5Alphabet === 'gsm7' ? 'gsm7' : 'ascii';
  if (dc === 0x03) return 'latin1';
  if (dc === 0x08) return 'ucs2';
  const charset = LEGACY_CHARSETS.get(dc);
  if (charset) return { charset };
  if (dc < 0x10) return 'binary'; // 2, 4 (8-bit data), 5, 9, 0x0B–0x0D, 0x0F
  // GSM DCS: general data coding (00xx) and automatic deletion (01xx) groups.
  if (dc < 0x80) {
    if (dc & 0x20) return 'binary'; // compressed text: not supported by handsets either
    return gsmDcsAlphabet((dc >> 2) & 0x03);
  }
  if (dc < 0xc0) return 'binary'; // reserved groups
  if (dc < 0xe0) return 'gsm7'; // message waiting, discard/store, default alphabet
  if (dc < 0xf0) return 'ucs2'; // message waiting, store, UCS-2
  return dc & 0x04 ? 'binary' : 'gsm7'; // data coding/message class group
}

function gsmDcsAlphabet(bits: number): Alphabet {
  if (bits === 0) return 'gsm7';
  if (bits === 2) return 'ucs2';
  return 'binary';
}

/**
 * Decodes a short message (or `message_payload`) body, without UDH, to text.
 *
 * - 0: GSM 03.38 unpacked septets. An octet with the high bit set cannot be
 *   an unpacked septet, so such a body is read as Latin-1: that is what a
 *   carrier sending ASCII/Latin-1 as "SMSC default" produces. Pure 7-bit
 *   ASCII sent in DC 0 is still read as GSM: letters, digits and most
 *   punctuation agree; `@ $ _ [ \ ] ^ { | } ~ \`` and control codes do not.
 *   Links whose SMSC means ASCII/Latin-1 set `smscDefaultAlphabet: 'latin1'`.
 * - 1: IA5/ASCII (bytes above 0x7F read as Latin-1 rather than dropped).
 * - 3: Latin-1. 6, 7, 0x0A, 0x0E: ISO-8859-5, ISO-8859-8, ISO-2022-JP, EUC-KR.
 * - 8: UCS-2, read as UTF-16BE so surrogate pairs give emoji. An odd trailing
 *   byte or an unpaired surrogate becomes U+FFFD.
 * - anything else: {@link binaryPlaceholder}.
 */
export function decodeShortMessage(dataCoding: number, bytes: Uint8Array, options: DecodeOptions = {}): string {
  const alphabet = alphabetOf(dataCoding, options);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (alphabet === 'gsm7') return hasHighBit(buf) ? buf.toString('latin1') : decodeGsm7(buf);
  if (alphabet === 'ascii' || alphabet === 'latin1') return buf.toString('latin1');
  if (alphabet === 'ucs2') return decodeUtf16Be(buf);
  if (alphabet === 'binary') return binaryPlaceholder(buf.length);
  return decodeCharset(alphabet.charset, buf);
}

function hasHighBit(buf: Buffer): boolean {
  for (const byte of buf) if (byte > 0x7f) return true;
  return false;
}

function decodeCharset(charset: string, buf: Buffer): string {
  try {
    return new TextDecoder(charset).decode(buf);
  } catch {
    // A Node built without full ICU lacks the legacy charsets.
    return binaryPlaceholder(buf.length);
  }
}

/** UTF-16BE → string, unpaired surrogates and an odd trailing byte as U+FFFD. */
export function decodeUtf16Be(bytes: Uint8Array): string {
  const even = bytes.length - (bytes.length % 2);
  const swapped = Buffer.from(bytes.subarray(0, even)).swap16();
  const text = toWellFormed(swapped.toString('utf16le'));
  return even === bytes.length ? text : `${text}\ufffd`;
}

/** Replaces unpaired UTF-16 surrogates with U+FFFD (String#toWellFormed, not in our ES2023 lib). */
export function toWellFormed(text: string): string {
  let out = '';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0xd800 || unit > 0xdfff) continue;
    const next = text.charCodeAt(i + 1);
    if (unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      i++;
      continue;
    }
    out += `${text.slice(start, i)}\ufffd`;
    start = i + 1;
  }
  return start === 0 ? text : out + text.slice(start);
}

/** The alphabet chosen for an outbound text, and its length in that alphabet's units. */
export interface EncodingChoice {
  dataCoding: SmsDataCoding;
  encoding: SmsEncodingName;
  /** Septets for GSM-7 (extension characters count 2), UTF-16 code units for UCS-2 (an emoji counts 2). */
  length: number;
}

/** GSM-7 when every character fits the default alphabet or its extension table, else UCS-2. */
export function chooseEncoding(text: string): EncodingChoice {
  if (isGsm7(text)) return { dataCoding: 0, encoding: 'GSM-7', length: gsm7Length(text) };
  return { dataCoding: 8, encoding: 'UCS-2', length: text.length };
}

/**
 * Encodes outbound text: 0 → unpacked GSM-7, 8 → UTF-16BE.
 * @throws ValidationError for data coding 0 when a character is not in the alphabet.
 */
export function encodeText(text: string, dataCoding: SmsDataCoding): Buffer {
  if (dataCoding === 0) return encodeGsm7(text);
  return Buffer.from(toWellFormed(text), 'utf16le').swap16();
}
