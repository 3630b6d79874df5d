/**
 * Splitting an outbound text into SMS parts with a concatenation UDH (the
 * `smpp` package does not split). Limits per 3GPP TS 23.040 with a 6-byte
 * UDH: GSM-7 160 septets alone, 153 per part; UCS-2 70 code units alone
 * (140 bytes), 67 per part (134 bytes). A part boundary never separates an
 * escape from its extension character, nor the halves of a surrogate pair,
 * so a part may hold one unit less than the maximum.
 */
import { ValidationError } from '../../src/errors.ts';
import { chunkSms, MAX_SMS_PARTS } from '../../src/domain/sms.ts';
import { chooseEncoding, encodeText, type SmsDataCoding, type SmsEncodingName } from './encoding.ts';
import { ESM_CLASS_UDHI, buildConcatUdh } from './udh.ts';

// Counting and cutting are pure and shared with the console (src/domain/sms.ts); this module encodes.
export { describeSms, MAX_SMS_PARTS, type SmsDescription } from '../../src/domain/sms.ts';

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
  const { texts } = chunkSms(text, encoding);
  if (texts.length > MAX_SMS_PARTS) {
    throw new ValidationError(`message needs ${texts.length} SMS parts; at most ${MAX_SMS_PARTS} can be sent`, 'text');
  }
  if (texts.length === 1) return { dataCoding, esmClass: 0, parts: [encodeText(text, dataCoding)] };
  const parts = texts.map((chunk, index) =>
    Buffer.concat([buildConcatUdh(options.reference, texts.length, index + 1), encodeText(chunk, dataCoding)]),
  );
  return { dataCoding, esmClass: ESM_CLASS_UDHI, parts };
}
