/**
 * Splitting an outbound text into SMS parts with a concatenation UDH (the
 * `smpp` package does not split). Limits per 3GPP TS 23.040 with a 6-byte
 * UDH: GSM-7 160 septets alone, 153 per part; UCS-2 70 code units alone
 * (140 bytes), 67 per part (134 bytes). A part boundary never separates an
 * escape from its extension character, nor the halves of a surrogate pair,
 * so a part may hold one unit less than the maximum.
 */
import { ValidationError } from '../../src/errors.ts';
import { chooseEncoding, encodeText, type SmsDataCoding, type SmsEncodingName } from './encoding.ts';
import { gsm7CharSeptets } from './gsm7.ts';
import { ESM_CLASS_UDHI, buildConcatUdh } from './udh.ts';

/** The most parts a concatenation UDH can number. */
export const MAX_SMS_PARTS = 255;

interface Limits {
  single: number;
  perPart: number;
}

const LIMITS: Record<SmsEncodingName, Limits> = {
  'GSM-7': { single: 160, perPart: 153 },
  'UCS-2': { single: 70, perPart: 67 },
};

/** Units one character takes: septets (1 or 2) in GSM-7, UTF-16 code units (1 or 2) in UCS-2. */
function unitsOf(char: string, encoding: SmsEncodingName): number {
  return encoding === 'GSM-7' ? gsm7CharSeptets(char) || 1 : char.length;
}

interface Chunks {
  texts: string[];
  /** Units used in the last part. */
  lastUsed: number;
  limit: number;
  length: number;
}

function chunkText(text: string, encoding: SmsEncodingName): Chunks {
  const limits = LIMITS[encoding];
  let length = 0;
  for (const char of text) length += unitsOf(char, encoding);
  if (length <= limits.single) return { texts: [text], lastUsed: length, limit: limits.single, length };
  const texts: string[] = [];
  let current = '';
  let used = 0;
  for (const char of text) {
    const units = unitsOf(char, encoding);
    if (used + units > limits.perPart) {
      texts.push(current);
      current = '';
      used = 0;
    }
    current += char;
    used += units;
  }
  texts.push(current);
  return { texts, lastUsed: used, limit: limits.perPart, length };
}

/** What the console's SMS-aware reply box shows about a draft. */
export interface SmsDescription {
  encoding: SmsEncodingName;
  /** Number of SMS parts the text would be sent as (1 for an empty text). */
  parts: number;
  /** Units per part at this size: 160/153 (GSM-7) or 70/67 (UCS-2). */
  charsPerPart: number;
  /** Length in septets (GSM-7, extension characters count 2) or UTF-16 code units (UCS-2). */
  length: number;
  /** Units left in the last part before another part is needed. */
  remainingInPart: number;
  /** True when the text needs more than {@link MAX_SMS_PARTS} parts and cannot be sent. */
  tooLong: boolean;
}

/** Describes how `text` would be sent, without encoding it; agrees with {@link splitSms}. */
export function describeSms(text: string): SmsDescription {
  const { encoding } = chooseEncoding(text);
  const chunks = chunkText(text, encoding);
  return {
    encoding,
    parts: chunks.texts.length,
    charsPerPart: chunks.limit,
    length: chunks.length,
    remainingInPart: chunks.limit - chunks.lastUsed,
    tooLong: chunks.texts.length > MAX_SMS_PARTS,
  };
}

/** An outbound text ready for `submit_sm`/`deliver_sm` PDUs, one per part. */
export interface SplitSms {
  dataCoding: SmsDataCoding;
  /** {@link ESM_CLASS_UDHI} (0x40) when the parts carry a UDH, else 0. */
  esmClass: number;
  /** `short_message` bodies in order: UDH + payload, or just the payload for a single part. */
  parts: Buffer[];
}

/** Options for {@link splitSms}. */
export interface SplitOptions {
  /** Concatenation reference 0–255 shared by the parts; the caller keeps it unique per destination. */
  reference: number;
  /** Force an alphabet; by default GSM-7 when every character fits, else UCS-2. */
  dataCoding?: SmsDataCoding;
}

/**
 * Encodes and splits `text` into SMS parts.
 * @throws ValidationError when more than {@link MAX_SMS_PARTS} parts are needed,
 * the reference is not 0–255, or GSM-7 is forced on text it cannot carry.
 */
export function splitSms(text: string, options: SplitOptions): SplitSms {
  if (!Number.isInteger(options.reference) || options.reference < 0 || options.reference > 0xff) {
    throw new ValidationError('concatenation reference must be an integer 0–255', 'reference');
  }
  const dataCoding = options.dataCoding ?? chooseEncoding(text).dataCoding;
  const encoding: SmsEncodingName = dataCoding === 0 ? 'GSM-7' : 'UCS-2';
  const { texts } = chunkText(text, encoding);
  if (texts.length > MAX_SMS_PARTS) {
    throw new ValidationError(`message needs ${texts.length} SMS parts; at most ${MAX_SMS_PARTS} can be sent`, 'text');
  }
  if (texts.length === 1) return { dataCoding, esmClass: 0, parts: [encodeText(text, dataCoding)] };
  const parts = texts.map((chunk, index) =>
    Buffer.concat([buildConcatUdh(options.reference, texts.length, index + 1), encodeText(chunk, dataCoding)]),
  );
  return { dataCoding, esmClass: ESM_CLASS_UDHI, parts };
}
