/**
 * SMPP bytes on the wire: framing a TCP stream into PDUs, and reading the
 * PDUs that carry a citizen's words with their bodies as raw bytes:
 * `deliver_sm` and `data_sm` from an SMSC (client mode), `submit_sm` and
 * `data_sm` from an ESME (server mode).
 *
 * Why not the `smpp` package's own reader: its Session stops reading for good
 * after one PDU it cannot parse (the link would hang while looking up), and
 * its parser runs every body through the process-wide
 * `filters.message.decode`, which loses octets (see smpp.d.ts). Replacing
 * that filter would change every `smpp` user in the process (the test SMSC, a
 * future server mode). So the link frames the stream itself, answers a PDU it
 * cannot read with generic_nack and goes on, reads message PDUs here, and
 * leaves the package to build PDUs and parse the other commands. Pure, no I/O.
 */

/** Bytes in a PDU header: command_length, command_id, command_status, sequence_number. */
export const HEADER_LENGTH = 16;
/** The longest PDU accepted: a 64 KiB message_payload and the rest of a data_sm. */
export const MAX_PDU_LENGTH = 70_000;
/** command_id bit that marks a response. */
export const RESPONSE_BIT = 0x80000000;

/** command_id values Lifeline handles itself (SMPP 3.4 §5.1.2.1). */
export const COMMAND_IDS = {
  generic_nack: 0x80000000,
  submit_sm: 0x00000004,
  deliver_sm: 0x00000005,
  data_sm: 0x00000103,
  alert_notification: 0x00000102,
  outbind: 0x0000000b,
} as const;

/** TLV tags read from message PDUs (SMPP 3.4 §5.3.2). */
export const TLV = {
  receiptedMessageId: 0x001e,
  sarMsgRefNum: 0x020c,
  sarTotalSegments: 0x020e,
  sarSegmentSeqnum: 0x020f,
  networkErrorCode: 0x0423,
  messagePayload: 0x0424,
  messageState: 0x0427,
} as const;

/** The four header fields. */
export interface PduHeader {
  length: number;
  commandId: number;
  status: number;
  sequence: number;
}

/** What the framer produced: a whole PDU, or a length that makes the rest of the stream unreadable. */
export type Frame = { kind: 'pdu'; header: PduHeader; bytes: Buffer } | { kind: 'bad-length'; length: number; sequence?: number };

/** Reads the header of a buffer holding at least {@link HEADER_LENGTH} bytes. */
export function readHeader(bytes: Buffer): PduHeader {
  return { length: bytes.readUInt32BE(0), commandId: bytes.readUInt32BE(4), status: bytes.readUInt32BE(8), sequence: bytes.readUInt32BE(12) };
}

/**
 * Cuts a byte stream into PDUs by command_length. A length below the header
 * size or above {@link MAX_PDU_LENGTH} cannot be skipped reliably: the framer
 * reports it once and stops (the connection must be closed).
 */
export class PduFramer {
  private buffered: Buffer[] = [];
  private size = 0;
  private broken = false;

  /** Adds received bytes. */
  push(chunk: Buffer): void {
    if (this.broken) return;
    this.buffered.push(chunk);
    this.size += chunk.length;
  }

  /** The next complete frame, or undefined until more bytes arrive. */
  next(): Frame | undefined {
    if (this.broken || this.size < 4) return undefined;
    const all = this.flatten();
    const length = all.readUInt32BE(0);
    if (length < HEADER_LENGTH || length > MAX_PDU_LENGTH) {
      this.broken = true;
      return { kind: 'bad-length', length, ...(all.length >= HEADER_LENGTH ? { sequence: all.readUInt32BE(12) } : {}) };
    }
    if (all.length < length) return undefined;
    const bytes = Buffer.from(all.subarray(0, length));
    this.buffered = all.length > length ? [all.subarray(length)] : [];
    this.size = all.length - length;
    return { kind: 'pdu', header: readHeader(bytes), bytes };
  }

  private flatten(): Buffer {
    if (this.buffered.length > 1) this.buffered = [Buffer.concat(this.buffered)];
    return this.buffered[0] ?? Buffer.alloc(0);
  }
}

/** A PDU whose body does not match its command. */
export class MalformedPduError extends Error {
  override readonly name = 'MalformedPduError';
}

/** The commands {@link readMessagePdu} reads. */
export type MessageCommand = 'deliver_sm' | 'data_sm' | 'submit_sm';

/** The command name of a message command_id, or undefined for any other command. */
export function messageCommandOf(commandId: number): MessageCommand | undefined {
  if (commandId === COMMAND_IDS.deliver_sm) return 'deliver_sm';
  if (commandId === COMMAND_IDS.data_sm) return 'data_sm';
  if (commandId === COMMAND_IDS.submit_sm) return 'submit_sm';
  return undefined;
}

/** A `deliver_sm`, `submit_sm` or `data_sm`, body bytes untouched. */
export interface MessagePdu {
  command: MessageCommand;
  sequence: number;
  serviceType: string;
  sourceAddrTon: number;
  sourceAddrNpi: number;
  sourceAddr: string;
  destAddrTon: number;
  destAddrNpi: number;
  destinationAddr: string;
  esmClass: number;
  registeredDelivery: number;
  dataCoding: number;
  /** The raw short_message (empty for data_sm). */
  shortMessage: Buffer;
  /** Optional parameters by tag, raw; the first occurrence of a tag wins. */
  tlvs: Map<number, Buffer>;
}

class Cursor {
  offset = HEADER_LENGTH;
  constructor(private readonly bytes: Buffer) {}

  u8(field: string): number {
    if (this.offset + 1 > this.bytes.length) throw new MalformedPduError(`${field} runs past the end of the PDU`);
    return this.bytes[this.offset++] as number;
  }

  cstring(field: string, maxLength: number): string {
    const end = this.bytes.indexOf(0, this.offset);
    if (end < 0 || end - this.offset > maxLength) throw new MalformedPduError(`${field} is not a NUL-terminated string of at most ${maxLength} octets`);
    const value = this.bytes.toString('latin1', this.offset, end);
    this.offset = end + 1;
    return value;
  }

  take(field: string, length: number): Buffer {
    if (this.offset + length > this.bytes.length) throw new MalformedPduError(`${field} runs past the end of the PDU`);
    const value = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  get left(): number {
    return this.bytes.length - this.offset;
  }
}

/**
 * Reads a whole `deliver_sm`, `submit_sm` or `data_sm` PDU (header included);
 * the first two share their body layout (SMPP 3.4 §4.4.1, §4.6.1).
 * @throws MalformedPduError when the header, a field or an optional parameter runs past the end.
 */
export function readMessagePdu(bytes: Buffer): MessagePdu {
  if (bytes.length < HEADER_LENGTH) throw new MalformedPduError(`a PDU of ${bytes.length} octets is shorter than its header`);
  const header = readHeader(bytes);
  const command = messageCommandOf(header.commandId);
  if (!command) throw new MalformedPduError(`command 0x${header.commandId.toString(16)} is not deliver_sm, submit_sm or data_sm`);
  const c = new Cursor(bytes);
  const serviceType = c.cstring('service_type', 5);
  const sourceAddrTon = c.u8('source_addr_ton');
  const sourceAddrNpi = c.u8('source_addr_npi');
  const sourceAddr = c.cstring('source_addr', 64);
  const destAddrTon = c.u8('dest_addr_ton');
  const destAddrNpi = c.u8('dest_addr_npi');
  const destinationAddr = c.cstring('destination_addr', 64);
  const esmClass = c.u8('esm_class');
  let registeredDelivery: number;
  let dataCoding: number;
  let shortMessage = Buffer.alloc(0);
  if (command !== 'data_sm') {
    c.u8('protocol_id');
    c.u8('priority_flag');
    c.cstring('schedule_delivery_time', 16);
    c.cstring('validity_period', 16);
    registeredDelivery = c.u8('registered_delivery');
    c.u8('replace_if_present_flag');
    dataCoding = c.u8('data_coding');
    c.u8('sm_default_msg_id');
    shortMessage = Buffer.from(c.take('short_message', c.u8('sm_length')));
  } else {
    registeredDelivery = c.u8('registered_delivery');
    dataCoding = c.u8('data_coding');
  }
  const tlvs = new Map<number, Buffer>();
  while (c.left > 0) {
    if (c.left < 4) throw new MalformedPduError('an optional parameter header runs past the end of the PDU');
    const tag = c.take('tlv tag', 2).readUInt16BE(0);
    const length = c.take('tlv length', 2).readUInt16BE(0);
    const value = Buffer.from(c.take(`tlv 0x${tag.toString(16)}`, length));
    if (!tlvs.has(tag)) tlvs.set(tag, value);
  }
  return {
    command,
    sequence: header.sequence,
    serviceType,
    sourceAddrTon,
    sourceAddrNpi,
    sourceAddr,
    destAddrTon,
    destAddrNpi,
    destinationAddr,
    esmClass,
    registeredDelivery,
    dataCoding,
    shortMessage,
    tlvs,
  };
}

/** An unsigned integer TLV (1, 2 or 4 octets), or undefined when absent or of another size. */
export function tlvUint(pdu: MessagePdu, tag: number): number | undefined {
  const value = pdu.tlvs.get(tag);
  if (!value) return undefined;
  if (value.length === 1) return value.readUInt8(0);
  if (value.length === 2) return value.readUInt16BE(0);
  if (value.length === 4) return value.readUInt32BE(0);
  return undefined;
}

/** A C-octet string TLV without its NUL, or undefined when absent. */
export function tlvString(pdu: MessagePdu, tag: number): string | undefined {
  const value = pdu.tlvs.get(tag);
  if (!value) return undefined;
  const end = value.indexOf(0);
  return value.toString('latin1', 0, end < 0 ? value.length : end);
}
