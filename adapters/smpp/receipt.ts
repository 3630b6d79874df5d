/**
 * SMSC delivery receipts (SMPP 3.4 §5.2.12 esm_class, §5.3.2.12/35 TLVs and
 * the de facto Appendix B text format) mapped to Lifeline delivery statuses.
 * Parsing never throws.
 */

/** esm_class message-type bits (SMPP 3.4 §5.2.12, bits 5–2). */
const ESM_CLASS_TYPE_MASK = 0x3c;
/** Message type: SMSC delivery receipt. */
export const ESM_CLASS_DELIVERY_RECEIPT = 0x04;
/** Message type: intermediate delivery notification. */
export const ESM_CLASS_INTERMEDIATE_NOTIFICATION = 0x20;

/**
 * What a receipt does to an outbound message: `sent` means "accepted, still
 * under way" and does not move a message past `sent` (`deliveryAdvances`
 * in src/domain keeps `delivered`/`failed` in place).
 */
export type ReceiptStatus = 'sent' | 'delivered' | 'failed';

/** A parsed delivery receipt. */
export interface DeliveryReceipt {
  /** The id the SMSC gave in `submit_sm_resp` (some SMSCs change its base; see {@link matchingMessageIds}). */
  messageId: string;
  status: ReceiptStatus;
  /** True for a final state (delivered, expired, deleted, undeliverable, rejected, skipped). */
  final: boolean;
  /** The SMSC's state as text: the `stat:` value, or the `message_state` TLV's name. */
  state: string;
  /** The SMSC's error: a non-zero `err:` value, else the `network_error_code` TLV as `type/code`. */
  error?: string;
  /** `submit date:` and `done date:` as sent (YYMMDDhhmm[ss], the SMSC's time zone). */
  submitDate?: string;
  doneDate?: string;
}

/** The PDU fields a receipt may use (values are as untrusted as the wire). */
export interface ReceiptFields {
  esmClass: number;
  /** The decoded `short_message`, or its raw bytes (read as Latin-1: receipts are ASCII). */
  text?: string | Buffer;
  receiptedMessageId?: unknown;
  messageState?: unknown;
  networkErrorCode?: unknown;
}

/** True when esm_class says the PDU is an SMSC delivery receipt or intermediate notification, not a citizen's text. */
export function isDeliveryReceipt(esmClass: number): boolean {
  const type = esmClass & ESM_CLASS_TYPE_MASK;
  return type === ESM_CLASS_DELIVERY_RECEIPT || type === ESM_CLASS_INTERMEDIATE_NOTIFICATION;
}

/** `message_state` TLV values (SMPP 3.4 §5.2.28, 9 from SMPP 5.0). */
const MESSAGE_STATES: readonly string[] = [
  'SCHEDULED',
  'ENROUTE',
  'DELIVRD',
  'EXPIRED',
  'DELETED',
  'UNDELIV',
  'ACCEPTD',
  'UNKNOWN',
  'REJECTD',
  'SKIPPED',
];

/** State text → status; prefixes cover both the 7-letter codes and spelled-out words some SMSCs send. */
function statusOf(state: string): { status: ReceiptStatus; final: boolean } {
  const upper = state.toUpperCase();
  if (upper.startsWith('DELIV')) return { status: 'delivered', final: true };
  if (['UNDEL', 'EXPIR', 'REJEC', 'DELET', 'FAIL', 'SKIP'].some((prefix) => upper.startsWith(prefix))) {
    return { status: 'failed', final: true };
  }
  return { status: 'sent', final: false };
}

/** Header fields of the text format, read only before ` text:` (which quotes the citizen's words). */
function parseReceiptText(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  const textAt = text.search(/(^|\s)text:/i);
  const header = textAt < 0 ? text : text.slice(0, textAt);
  for (const match of header.matchAll(/(?<![A-Za-z_])(id|sub|dlvrd|submit date|done date|stat|err):(\S*)/gi)) {
    const key = (match[1] ?? '').toLowerCase();
    if (!fields.has(key)) fields.set(key, match[2] ?? '');
  }
  return fields;
}

function nonEmptyString(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.replace(/\u0000+$/, '').trim();
  return trimmed || undefined;
}

function networkError(value: unknown): string | undefined {
  if (!Buffer.isBuffer(value) || value.length < 3) return undefined;
  const code = value.readUInt16BE(1);
  return code === 0 ? undefined : `${value[0]}/${code}`;
}

/**
 * Parses a delivery receipt from the TLVs (`receipted_message_id`,
 * `message_state`, preferred) or the text `id:… sub:… dlvrd:… submit
 * date:… done date:… stat:… err:… text:…`. Returns undefined when esm_class
 * does not mark a receipt or no message id can be found; use
 * {@link isDeliveryReceipt} to tell an unusable receipt from a citizen's text.
 */
export function parseDeliveryReceipt(fields: ReceiptFields): DeliveryReceipt | undefined {
  if (!isDeliveryReceipt(fields.esmClass)) return undefined;
  const raw = fields.text;
  const textFields = parseReceiptText(typeof raw === 'string' ? raw : Buffer.isBuffer(raw) ? raw.toString('latin1') : '');
  const messageId = nonEmptyString(fields.receiptedMessageId) ?? nonEmptyString(textFields.get('id'));
  if (!messageId) return undefined;
  const tlvState =
    typeof fields.messageState === 'number' && Number.isInteger(fields.messageState) ? MESSAGE_STATES[fields.messageState] : undefined;
  const state = tlvState ?? nonEmptyString(textFields.get('stat'))?.toUpperCase() ?? 'UNKNOWN';
  const err = textFields.get('err');
  const error = err && !/^0*$/.test(err) ? err : networkError(fields.networkErrorCode);
  const submitDate = nonEmptyString(textFields.get('submit date'));
  const doneDate = nonEmptyString(textFields.get('done date'));
  return {
    messageId,
    ...statusOf(state),
    state,
    ...(error ? { error } : {}),
    ...(submitDate ? { submitDate } : {}),
    ...(doneDate ? { doneDate } : {}),
  };
}

/**
 * Ids under which a receipt's message id may have been stored: itself, and
 * its hexadecimal/decimal counterpart and unpadded form, because some SMSCs
 * answer `submit_sm_resp` in hex and write receipts in decimal (or pad with
 * zeros). Look the outbound message up by any of them, scoped to the link.
 */
export function matchingMessageIds(id: string): string[] {
  const ids = new Set<string>([id]);
  const unpadded = id.replace(/^0+(?=.)/, '');
  ids.add(unpadded);
  if (unpadded.length <= 32) {
    if (/^[0-9]+$/.test(unpadded)) {
      const hex = BigInt(unpadded).toString(16);
      ids.add(hex);
      ids.add(hex.toUpperCase());
    }
    if (/^[0-9a-f]+$/i.test(unpadded)) ids.add(BigInt(`0x${unpadded}`).toString(10));
  }
  return [...ids];
}

/** `YYMMDDhhmm` in UTC, the date format of receipt texts. */
function receiptDate(at: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(at.getUTCFullYear() % 100)}${two(at.getUTCMonth() + 1)}${two(at.getUTCDate())}${two(at.getUTCHours())}${two(at.getUTCMinutes())}`;
}

/**
 * The text of a receipt the gateway sends (server mode) for a message it
 * stored: delivered, as far as the peer is concerned, once stored. The
 * `text:` field stays empty: the peer has the words already, and a receipt
 * is one more place they would travel and be logged.
 */
export function formatDeliveryReceipt(messageId: string, submittedAt: Date, doneAt: Date): string {
  return `id:${messageId} sub:001 dlvrd:001 submit date:${receiptDate(submittedAt)} done date:${receiptDate(doneAt)} stat:DELIVRD err:000 text:`;
}

/** `message_state` value of a delivered message (SMPP 3.4 §5.2.28). */
export const MESSAGE_STATE_DELIVERED = 2;
