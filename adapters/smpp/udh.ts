/**
 * User data headers (3GPP TS 23.040 §9.2.3.24) and concatenation info, the
 * byte-level half of splitting and reassembly. Parsing never throws: a
 * malformed header yields what could be read and a flag saying so.
 */
import { ValidationError } from '../../src/errors.ts';

/** esm_class bit saying the short message starts with a UDH. */
export const ESM_CLASS_UDHI = 0x40;

/** IEI of concatenated short messages with an 8-bit reference. */
export const IEI_CONCAT_8 = 0x00;
/** IEI of concatenated short messages with a 16-bit reference. */
export const IEI_CONCAT_16 = 0x08;

/** One information element of a UDH. */
export interface UdhElement {
  iei: number;
  data: Buffer;
}

/** A UDH split off a message body. */
export interface ParsedUdh {
  elements: UdhElement[];
  /** The body after the header. */
  payload: Buffer;
  /** True when the header length or an element length ran past the data. */
  malformed: boolean;
}

/**
 * Splits `UDHL | elements | payload`. A header claiming more bytes than
 * there are is not a header (most likely the peer set UDHI by mistake): the
 * whole buffer is returned as payload, flagged malformed, so no text is
 * lost. An element running past the header's end stops element parsing and
 * is flagged too; the payload still starts after the header.
 */
export function parseUdh(bytes: Buffer): ParsedUdh {
  const end = 1 + (bytes[0] ?? 0);
  if (bytes.length === 0 || end > bytes.length) return { elements: [], payload: bytes, malformed: true };
  const elements: UdhElement[] = [];
  let malformed = false;
  let offset = 1;
  while (offset < end) {
    const iei = bytes[offset] ?? 0;
    const length = bytes[offset + 1];
    if (length === undefined || offset + 2 + length > end) {
      malformed = true;
      break;
    }
    elements.push({ iei, data: bytes.subarray(offset + 2, offset + 2 + length) });
    offset += 2 + length;
  }
  return { elements, payload: bytes.subarray(end), malformed };
}

/** Where a concatenation reference came from; parts of one message share it. */
export type ConcatKind = 'udh8' | 'udh16' | 'sar';

/** "Part `sequence` of `total` of message `reference`". */
export interface ConcatInfo {
  kind: ConcatKind;
  reference: number;
  total: number;
  sequence: number;
}

/**
 * Concatenation info from UDH elements: the first valid 0x00 (8-bit) or
 * 0x08 (16-bit reference) element wins; other elements (ports, language
 * shifts) may precede it. An element with total 0, sequence 0 or sequence >
 * total is ignored, as 23.040 tells receivers to do.
 */
export function concatFromUdh(elements: readonly UdhElement[]): ConcatInfo | undefined {
  for (const { iei, data } of elements) {
    let info: ConcatInfo | undefined;
    if (iei === IEI_CONCAT_8 && data.length === 3) {
      info = { kind: 'udh8', reference: data[0] ?? 0, total: data[1] ?? 0, sequence: data[2] ?? 0 };
    } else if (iei === IEI_CONCAT_16 && data.length === 4) {
      info = { kind: 'udh16', reference: data.readUInt16BE(0), total: data[2] ?? 0, sequence: data[3] ?? 0 };
    }
    if (info && isValidConcat(info)) return info;
  }
  return undefined;
}

/** The three SAR TLVs as the PDU carries them (any may be absent or odd on a broken peer). */
export interface SarFields {
  sarMsgRefNum?: unknown;
  sarTotalSegments?: unknown;
  sarSegmentSeqnum?: unknown;
}

/** Concatenation info from the SAR TLVs, when all three are present and consistent. */
export function concatFromSar(fields: SarFields): ConcatInfo | undefined {
  const { sarMsgRefNum: reference, sarTotalSegments: total, sarSegmentSeqnum: sequence } = fields;
  if (!isUint(reference, 0xffff) || !isUint(total, 0xff) || !isUint(sequence, 0xff)) return undefined;
  const info: ConcatInfo = { kind: 'sar', reference, total, sequence };
  return isValidConcat(info) ? info : undefined;
}

function isUint(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max;
}

function isValidConcat(info: ConcatInfo): boolean {
  return info.total >= 1 && info.sequence >= 1 && info.sequence <= info.total;
}

/** The fields of a `deliver_sm`/`data_sm` that carry a message body, as raw bytes. */
export interface PartFields extends SarFields {
  esmClass: number;
  shortMessage?: Buffer;
  messagePayload?: Buffer;
}

/** A message body with its UDH removed and its concatenation info, if any. */
export interface ExtractedPart {
  payload: Buffer;
  concat?: ConcatInfo;
  /** The UDH elements, when the body had a header (e.g. language shift tables, ports). */
  udh?: UdhElement[];
  malformedUdh?: boolean;
}

/**
 * Takes the body from `short_message`, or from `message_payload` when
 * `short_message` is empty (SMPP 3.4 allows only one of them), strips the
 * UDH when esm_class has UDHI, and reads concatenation info from the UDH or
 * else from the SAR TLVs. A "concatenated" message of one part is returned
 * without concat info.
 */
export function extractPart(fields: PartFields): ExtractedPart {
  const body = fields.shortMessage?.length ? fields.shortMessage : (fields.messagePayload ?? Buffer.alloc(0));
  let payload = body;
  let concat: ConcatInfo | undefined;
  let udh: UdhElement[] | undefined;
  let malformedUdh: boolean | undefined;
  if (fields.esmClass & ESM_CLASS_UDHI) {
    const parsed = parseUdh(body);
    payload = parsed.payload;
    udh = parsed.elements;
    malformedUdh = parsed.malformed || undefined;
    concat = concatFromUdh(parsed.elements);
  }
  concat ??= concatFromSar(fields);
  if (concat?.total === 1) concat = undefined;
  return {
    payload,
    ...(concat ? { concat } : {}),
    ...(udh ? { udh } : {}),
    ...(malformedUdh ? { malformedUdh } : {}),
  };
}

/**
 * The 6-byte UDH `05 00 03 ref total seq` (8-bit reference concatenation).
 * @throws ValidationError when a number is out of range.
 */
export function buildConcatUdh(reference: number, total: number, sequence: number): Buffer {
  if (!Number.isInteger(reference) || reference < 0 || reference > 0xff) {
    throw new ValidationError('concatenation reference must be an integer 0–255', 'reference');
  }
  if (!Number.isInteger(total) || total < 1 || total > 0xff || !Number.isInteger(sequence) || sequence < 1 || sequence > total) {
    throw new ValidationError(`invalid concatenation part ${sequence} of ${total}`, 'parts');
  }
  return Buffer.from([0x05, IEI_CONCAT_8, 0x03, reference, total, sequence]);
}
