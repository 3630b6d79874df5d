/**
 * What an SMS text costs: which alphabet it goes in (GSM-7 or UCS-2) and how
 * many parts it takes. Pure and free of Node APIs, so the console's reply box
 * (browser bundle) and the SMPP adapter (adapters/smpp/split.ts, gsm7.ts,
 * encoding.ts) share one definition.
 *
 * Limits per 3GPP TS 23.040 with a 6-byte concatenation UDH: GSM-7 160
 * septets alone, 153 per part; UCS-2 70 code units alone, 67 per part. A part
 * boundary never separates an escape from its extension character, nor the
 * halves of a surrogate pair, so a part may hold one unit less than the maximum.
 */

/** Human names of the two outbound alphabets, as the console shows them. */
export type SmsEncodingName = 'GSM-7' | 'UCS-2';

/** The escape septet that selects the extension table for the next septet. */
export const GSM7_ESCAPE = 0x1b;

/** GSM 03.38 basic table, indexed by septet. 0x1B is the escape. */
export const GSM7_BASIC_TABLE =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';

/** GSM 03.38 extension table (after 0x1B): septet → character. */
export const GSM7_EXTENSION_TABLE: ReadonlyMap<number, string> = new Map([
  [0x0a, '\f'],
  [0x14, '^'],
  [0x28, '{'],
  [0x29, '}'],
  [0x2f, '\\'],
  [0x3c, '['],
  [0x3d, '~'],
  [0x3e, ']'],
  [0x40, '|'],
  [0x65, '€'],
]);

/** Character → septet in the basic table. */
export const GSM7_BASIC_ENCODE: ReadonlyMap<string, number> = new Map(
  [...GSM7_BASIC_TABLE].flatMap((char, septet) => (septet === GSM7_ESCAPE ? [] : [[char, septet] as const])),
);
/** Character → septet in the extension table. */
export const GSM7_EXTENSION_ENCODE: ReadonlyMap<string, number> = new Map(
  [...GSM7_EXTENSION_TABLE].map(([septet, char]) => [char, septet] as const),
);

/** Septets one character needs: 1 (basic), 2 (escape + extension) or 0 (not representable). */
export function gsm7CharSeptets(char: string): 0 | 1 | 2 {
  if (GSM7_BASIC_ENCODE.has(char)) return 1;
  if (GSM7_EXTENSION_ENCODE.has(char)) return 2;
  return 0;
}

/** True when every character of `text` is in the default alphabet or its extension table. */
export function isGsm7(text: string): boolean {
  for (const char of text) {
    if (gsm7CharSeptets(char) === 0) return false;
  }
  return true;
}

/**
 * Length of `text` in septets: extension characters count 2. A character
 * outside the alphabet counts 1 (check {@link isGsm7} first; such text goes
 * out as UCS-2).
 */
export function gsm7Length(text: string): number {
  let septets = 0;
  for (const char of text) septets += gsm7CharSeptets(char) || 1;
  return septets;
}

/** The alphabet an outbound text goes in: GSM-7 when every character fits, else UCS-2. */
export function smsEncodingOf(text: string): SmsEncodingName {
  return isGsm7(text) ? 'GSM-7' : 'UCS-2';
}

/** The most parts a concatenation UDH can number. */
export const MAX_SMS_PARTS = 255;

const LIMITS: Record<SmsEncodingName, { single: number; perPart: number }> = {
  'GSM-7': { single: 160, perPart: 153 },
  'UCS-2': { single: 70, perPart: 67 },
};

/** Units one character takes: septets (1 or 2) in GSM-7, UTF-16 code units (1 or 2) in UCS-2. */
function unitsOf(char: string, encoding: SmsEncodingName): number {
  return encoding === 'GSM-7' ? gsm7CharSeptets(char) || 1 : char.length;
}

/** A text cut into the texts of its SMS parts. */
export interface SmsChunks {
  texts: string[];
  /** Units used in the last part. */
  lastUsed: number;
  /** Units per part at this size (single or per concatenated part). */
  limit: number;
  /** Length of the whole text in units. */
  length: number;
}

/** Cuts `text` into the texts of its parts in `encoding` (one part when it fits a single SMS). */
export function chunkSms(text: string, encoding: SmsEncodingName): SmsChunks {
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

/** Describes how `text` would be sent as SMS, without encoding it; agrees with the SMPP adapter's split. */
export function describeSms(text: string): SmsDescription {
  const encoding = smsEncodingOf(text);
  const chunks = chunkSms(text, encoding);
  return {
    encoding,
    parts: chunks.texts.length,
    charsPerPart: chunks.limit,
    length: chunks.length,
    remainingInPart: chunks.limit - chunks.lastUsed,
    tooLong: chunks.texts.length > MAX_SMS_PARTS,
  };
}
