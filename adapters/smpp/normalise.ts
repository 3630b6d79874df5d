/**
 * Pure steps from a received `deliver_sm`/`data_sm` to what the link does
 * with it: a delivery receipt, a part of a concatenated message, or a whole
 * one-part message; the idempotency key of a one-part message; the text
 * handed to ingest.
 *
 * One-part keys, the trade-off. A one-part SMS carries no id of its own, and
 * a carrier re-sending it after our deliver_sm_resp was lost cannot be told
 * with certainty from a citizen sending the same words twice. reassembly.ts
 * keeps a per-PDU key for that reason: losing a second "help" is worse than
 * showing one twice. We keep that priority and add the one re-send we can
 * recognise safely: the key is the PDU's sequence_number with a hash of the
 * link, addresses, data coding and bytes, in a five-minute bucket. So
 * - a re-send of the same PDU (same sequence number, same bytes, same bucket)
 *   is stored once: that is what an SMSC retrying an unanswered PDU sends;
 * - two identical texts from a citizen get different sequence numbers on a
 *   session, so both are kept;
 * - a re-send under a new sequence number (typical after a reconnect), or
 *   across a bucket boundary, is shown twice: visible, never lost;
 * - the rare collision (an SMSC that restarts its numbering on every bind,
 *   the same words with the same number within five minutes) merges two
 *   identical texts: the words are kept, the repetition is not.
 * Concatenated messages are keyed by content (see assembly.ts).
 */
import { createHash } from 'node:crypto';
import type { NewSmsPart } from '../../src/store/sms-parts.ts';
import { toWellFormed } from './encoding.ts';
import { isDeliveryReceipt, parseDeliveryReceipt, type DeliveryReceipt } from './receipt.ts';
import { extractPart } from './udh.ts';
import { TLV, tlvString, tlvUint, type MessagePdu } from './wire.ts';

/** What a message PDU is. */
export type ClassifiedPdu =
  | { kind: 'receipt'; receipt: DeliveryReceipt | undefined }
  | { kind: 'part'; part: NewSmsPart }
  | { kind: 'single'; dataCoding: number; payload: Buffer };

/**
 * Sorts a message PDU into receipt, concatenated part or one-part message.
 * `receipts` is false for PDUs from an ESME (server mode), whose esm_class
 * message-type bits mean something else.
 */
export function classifyMessagePdu(linkId: string, pdu: MessagePdu, receipts = true): ClassifiedPdu {
  const messagePayload = pdu.tlvs.get(TLV.messagePayload);
  if (receipts && isDeliveryReceipt(pdu.esmClass)) {
    const receipt = parseDeliveryReceipt({
      esmClass: pdu.esmClass,
      text: pdu.shortMessage.length > 0 ? pdu.shortMessage : messagePayload,
      receiptedMessageId: tlvString(pdu, TLV.receiptedMessageId),
      messageState: tlvUint(pdu, TLV.messageState),
      networkErrorCode: pdu.tlvs.get(TLV.networkErrorCode),
    });
    return { kind: 'receipt', receipt };
  }
  const extracted = extractPart({
    esmClass: pdu.esmClass,
    shortMessage: pdu.shortMessage,
    messagePayload,
    sarMsgRefNum: tlvUint(pdu, TLV.sarMsgRefNum),
    sarTotalSegments: tlvUint(pdu, TLV.sarTotalSegments),
    sarSegmentSeqnum: tlvUint(pdu, TLV.sarSegmentSeqnum),
  });
  if (!extracted.concat) return { kind: 'single', dataCoding: pdu.dataCoding, payload: extracted.payload };
  return {
    kind: 'part',
    part: {
      linkId,
      source: senderOf(pdu.sourceAddr, pdu.sourceAddrTon),
      destination: pdu.destinationAddr,
      concatKind: extracted.concat.kind,
      concatRef: extracted.concat.reference,
      concatTotal: extracted.concat.total,
      concatSeq: extracted.concat.sequence,
      dataCoding: pdu.dataCoding,
      payload: Buffer.from(extracted.payload),
    },
  };
}

/** The bucket a one-part key is computed in; see the module comment. */
export const SINGLE_KEY_BUCKET_MS = 5 * 60_000;

/** `sm:<sequence>:<bucket>:<hash>`, the channel message id of a one-part SMS; see the module comment. */
export function singleMessageKey(
  linkId: string,
  pdu: Pick<MessagePdu, 'sequence' | 'sourceAddr' | 'destinationAddr'>,
  dataCoding: number,
  payload: Buffer,
  receivedAt: number,
): string {
  const hash = createHash('sha256');
  for (const field of [linkId, pdu.sourceAddr, pdu.destinationAddr, String(dataCoding)]) hash.update(field).update('\u0000');
  hash.update(payload);
  return `sm:${pdu.sequence}:${Math.floor(receivedAt / SINGLE_KEY_BUCKET_MS)}:${hash.digest('hex').slice(0, 32)}`;
}

/** The contact address of an SMS whose source_addr is empty (withheld): kept, never refused. */
export const UNKNOWN_SENDER = 'unknown';

/** TON 1: the address is a full international number (country code first). */
const TON_INTERNATIONAL = 1;

/**
 * The sender address ingest gets: an international number (TON 1) in E.164
 * form with its `+`, so it is the same contact as the caller of that number
 * on a voice or Twilio link; any other address as sent; {@link UNKNOWN_SENDER}
 * when empty.
 */
export function senderOf(sourceAddr: string, ton: number): string {
  const address = sourceAddr.trim();
  if (address === '') return UNKNOWN_SENDER;
  if (ton === TON_INTERNATIONAL && /^\d{6,15}$/.test(address)) return `+${address}`;
  return address;
}

/** The destination_addr for a contact address: an E.164 number without its `+` (the TON says international). */
export function smppDestination(address: string): string {
  return address.startsWith('+') ? address.slice(1) : address;
}

/** Shown for an SMS without text: a citizen who could only press send must still be seen. */
export const EMPTY_SMS_TEXT = '[empty message]';

/** The text ingest gets: never empty, cut to `maxChars` with a visible marker rather than refused. */
export function ingestText(text: string, maxChars: number): string {
  if (!text.trim()) return EMPTY_SMS_TEXT;
  if (text.length <= maxChars) return text;
  const marker = ' […truncated]';
  return toWellFormed(text.slice(0, Math.max(0, maxChars - marker.length))) + marker;
}
