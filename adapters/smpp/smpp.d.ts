/**
 * Hand-written types for the `smpp` npm package 0.5.1 (it ships none), from
 * its source (lib/smpp.js, lib/pdu.js, lib/defs.js). Only what Lifeline uses
 * is precise; anything the library leaves loose is `unknown`.
 *
 * Import it as `import smpp from 'smpp'`. Node's ESM loader detects only
 * some named exports of this CommonJS module (`connect`, `createServer`,
 * `createSession`, `PDU`, `Session`, `Server`, `SecureServer`, `addCommand`,
 * `addTLV`); `errors`, `consts`, `encodings`, `filters` and the `ESME_*`
 * constants exist only on the default export, so they are declared there.
 *
 * Runtime facts worth knowing (0.5.1):
 * - There is no `createSecureServer`: `createServer` with `key` and `cert`
 *   returns a `SecureServer` (default port 3550; plain 2775).
 * - Inbound `short_message` and `message_payload` are decoded by the
 *   library's `filters.message.decode`: they arrive as `{ udh?, message }`
 *   where `udh` is a list of `[iei, length, ...data]` slices and `message` a
 *   string for data_coding 0/1 (both read as GSM 03.38; octets ≥ 0x80 become
 *   spaces), 3 (Latin-1) and 8 (UTF-16BE), or a Buffer for other codings.
 *   That loses bytes; code that needs them must obtain the raw body itself.
 * - Outbound, a Buffer `short_message` is sent as is and `data_coding`
 *   defaults to 0 on the wire; a string is encoded by detection (GSM text
 *   gets data_coding 1). The library does not split long messages, has no
 *   response timeouts and no reconnect.
 * - `send` returns false (and sends nothing) when the socket is not writable.
 */
declare module 'smpp' {
  import type { EventEmitter } from 'node:events';
  import type { NetConnectOpts, Server as NetServer, ServerOpts, Socket } from 'node:net';
  import type { ConnectionOptions as TlsConnectionOptions, Server as TlsServer, TLSSocket, TlsOptions } from 'node:tls';

  /** Commands defined in lib/defs.js; each is also a shortcut method on {@link Session}. */
  export type CommandName =
    | 'alert_notification'
    | 'bind_receiver'
    | 'bind_receiver_resp'
    | 'bind_transmitter'
    | 'bind_transmitter_resp'
    | 'bind_transceiver'
    | 'bind_transceiver_resp'
    | 'broadcast_sm'
    | 'broadcast_sm_resp'
    | 'cancel_broadcast_sm'
    | 'cancel_broadcast_sm_resp'
    | 'cancel_sm'
    | 'cancel_sm_resp'
    | 'data_sm'
    | 'data_sm_resp'
    | 'deliver_sm'
    | 'deliver_sm_resp'
    | 'enquire_link'
    | 'enquire_link_resp'
    | 'generic_nack'
    | 'outbind'
    | 'query_broadcast_sm'
    | 'query_broadcast_sm_resp'
    | 'query_sm'
    | 'query_sm_resp'
    | 'replace_sm'
    | 'replace_sm_resp'
    | 'submit_multi'
    | 'submit_multi_resp'
    | 'submit_sm'
    | 'submit_sm_resp'
    | 'unbind'
    | 'unbind_resp';

  /** A message body as a received PDU carries it after the library's decode filter. */
  export interface DecodedMessage {
    udh?: Buffer[];
    message: string | Buffer;
  }

  /** A message body to send: bytes as is, a string to encode, or a message with a prepared UDH. */
  export type OutgoingMessage = Buffer | string | { udh?: Buffer; message: string | Buffer };

  /** Fields given to `new PDU(command, options)` or a session shortcut; unknown keys that name a TLV are sent as TLVs. */
  export interface PduOptions {
    command_status?: number;
    sequence_number?: number;
    system_id?: string;
    password?: string;
    system_type?: string;
    interface_version?: number;
    addr_ton?: number;
    addr_npi?: number;
    address_range?: string;
    service_type?: string;
    source_addr_ton?: number;
    source_addr_npi?: number;
    source_addr?: string;
    dest_addr_ton?: number;
    dest_addr_npi?: number;
    destination_addr?: string;
    esm_class?: number;
    protocol_id?: number;
    priority_flag?: number;
    schedule_delivery_time?: string | Date;
    validity_period?: string | Date;
    registered_delivery?: number;
    replace_if_present_flag?: number;
    /** `null` (the default) lets the library pick; set 0 or 8 explicitly. */
    data_coding?: number | null;
    sm_default_msg_id?: number;
    short_message?: OutgoingMessage;
    message_payload?: OutgoingMessage;
    message_id?: string;
    sar_msg_ref_num?: number;
    sar_total_segments?: number;
    sar_segment_seqnum?: number;
    receipted_message_id?: string;
    message_state?: number;
    [field: string]: unknown;
  }

  /** A protocol data unit. Received PDUs carry only the fields present on the wire. */
  export class PDU {
    /** Builds a request or response by command name; a Buffer is parsed instead. */
    constructor(command: CommandName, options?: PduOptions);
    constructor(buffer: Buffer);
    /** Parses a complete PDU, or returns false when the buffer is shorter than its command_length. */
    static fromBuffer(buffer: Buffer): PDU | false;
    /** Largest accepted command_length (16384); a longer PDU makes parsing throw. */
    static maxLength: number;

    /** Command name, or `'unknown'` for an unrecognised command_id. */
    command: CommandName | 'unknown';
    command_length: number;
    command_id: number;
    command_status: number;
    sequence_number: number;

    system_id?: string;
    password?: string;
    system_type?: string;
    interface_version?: number;
    service_type?: string;
    source_addr_ton?: number;
    source_addr_npi?: number;
    source_addr?: string;
    dest_addr_ton?: number;
    dest_addr_npi?: number;
    destination_addr?: string;
    esm_class?: number;
    protocol_id?: number;
    priority_flag?: number;
    /** Parsed into a Date when present. */
    schedule_delivery_time?: string | Date;
    validity_period?: string | Date;
    registered_delivery?: number;
    replace_if_present_flag?: number;
    data_coding?: number | null;
    sm_default_msg_id?: number;
    /** Decoded on receipt (see the file comment); what was given when built locally. */
    short_message?: DecodedMessage | OutgoingMessage;
    message_payload?: DecodedMessage | OutgoingMessage;
    message_id?: string;
    sar_msg_ref_num?: number;
    sar_total_segments?: number;
    sar_segment_seqnum?: number;
    receipted_message_id?: string;
    message_state?: number;
    network_error_code?: Buffer;
    user_message_reference?: number;
    source_port?: number;
    dest_port?: number;
    /** Other TLVs by name, and unknown TLVs as Buffers keyed by their numeric tag. */
    [field: string]: unknown;

    isResponse(): boolean;
    /** The matching `*_resp` with this sequence_number (generic_nack with ESME_RINVCMDID for an unknown command). */
    response(options?: PduOptions): PDU;
    toBuffer(): Buffer;
  }

  /** Options of {@link connect}: net/tls connect options plus the library's own. */
  export type ConnectOptions = (NetConnectOpts | TlsConnectionOptions) & {
    host?: string;
    port?: number;
    /** `smpp://host:port` or `ssmpp://host:port` (TLS). */
    url?: string;
    tls?: boolean;
    /** Sends enquire_link every so many ms once connected (cleared on close/error). */
    auto_enquire_link_period?: number;
  };

  /** Called with the response PDU to a request. */
  export type ResponseCallback = (pdu: PDU) => void;
  /** Called once the PDU was written to the socket. */
  export type SendCallback = (pdu: PDU) => void;
  /** A shortcut: builds `new PDU(command, options)` and sends it; false when the socket is not writable. */
  export type CommandShortcut = {
    (options?: PduOptions, responseCallback?: ResponseCallback, sendCallback?: SendCallback): boolean;
    (responseCallback: ResponseCallback, sendCallback?: SendCallback): boolean;
  };
  type CommandShortcuts = { [K in CommandName]: CommandShortcut };

  /** One SMPP connection, client or server side. Emits every PDU as `'pdu'` and under its command name. */
  export interface Session extends CommandShortcuts {}
  export class Session extends EventEmitter {
    constructor(options: ConnectOptions | { socket: Socket });
    readonly socket: Socket;
    options: ConnectOptions;
    /** Last sequence_number used; wraps at 0x7FFFFFFF. */
    sequence: number;
    paused: boolean;
    /** Set on sessions accepted by a server. */
    server?: Server | SecureServer;
    /** Reconnects a closed client session (resets sequence and callbacks). */
    connect(): void;
    /** Sends a request (sequence_number assigned if 0) or a response; false when the socket is not writable. */
    send(pdu: PDU, responseCallback?: ResponseCallback, sendCallback?: SendCallback): boolean;
    /** Stops emitting PDUs until {@link resume}; bytes keep arriving into the socket buffer. */
    pause(): void;
    resume(): void;
    /** Ends the socket gracefully; `callback` runs on 'close'. */
    close(callback?: () => void): void;
    destroy(callback?: () => void): void;

    on(event: 'pdu' | 'send' | CommandName | 'unknown', listener: (pdu: PDU) => void): this;
    on(event: 'connect' | 'secureConnect' | 'close', listener: () => void): this;
    /** Socket errors and PDU parse errors (after a parse error the session stops reading). */
    on(event: 'error', listener: (error: Error) => void): this;
    once(event: 'pdu' | 'send' | CommandName | 'unknown', listener: (pdu: PDU) => void): this;
    once(event: 'connect' | 'secureConnect' | 'close', listener: () => void): this;
    once(event: 'error', listener: (error: Error) => void): this;
  }

  /**
   * A plain SMPP listener (a net.Server); emits `'session'` per accepted
   * connection. The last `on`/`once` overload keeps net.Server's other
   * events assignable without `any`.
   */
  export class Server extends NetServer {
    sessions: Session[];
    on(event: 'session', listener: (session: Session) => void): this;
    on(event: 'connection', listener: (socket: Socket) => void): this;
    on(event: 'error', listener: (error: Error) => void): this;
    on(event: 'listening' | 'close', listener: () => void): this;
    on(event: string | symbol, listener: (...args: never[]) => void): this;
    once(event: 'session', listener: (session: Session) => void): this;
    once(event: 'connection', listener: (socket: Socket) => void): this;
    once(event: 'error', listener: (error: Error) => void): this;
    once(event: 'listening' | 'close', listener: () => void): this;
    once(event: string | symbol, listener: (...args: never[]) => void): this;
  }

  /** A TLS SMPP listener (a tls.Server); emits `'session'` per accepted connection. */
  export class SecureServer extends TlsServer {
    sessions: Session[];
    on(event: 'session', listener: (session: Session) => void): this;
    on(event: 'secureConnection', listener: (socket: TLSSocket) => void): this;
    on(event: 'tlsClientError', listener: (error: Error, socket: TLSSocket) => void): this;
    on(event: 'error', listener: (error: Error) => void): this;
    on(event: 'listening' | 'close', listener: () => void): this;
    on(event: string | symbol, listener: (...args: never[]) => void): this;
    once(event: 'session', listener: (session: Session) => void): this;
    once(event: 'secureConnection', listener: (socket: TLSSocket) => void): this;
    once(event: 'tlsClientError', listener: (error: Error, socket: TLSSocket) => void): this;
    once(event: 'error', listener: (error: Error) => void): this;
    once(event: 'listening' | 'close', listener: () => void): this;
    once(event: string | symbol, listener: (...args: never[]) => void): this;
  }

  /** Options of {@link createServer}; with `key` and `cert` a {@link SecureServer} is made. */
  export type ServerOptions = ServerOpts & TlsOptions;

  export function connect(url: string, listener?: () => void): Session;
  export function connect(options: ConnectOptions, listener?: () => void): Session;
  export function connect(listener?: () => void): Session;
  export function createSession(url: string, listener?: () => void): Session;
  export function createSession(options: ConnectOptions, listener?: () => void): Session;
  export function createServer(listener?: (session: Session) => void): Server;
  export function createServer(options: ServerOptions, listener?: (session: Session) => void): Server | SecureServer;
  export function addCommand(command: string, options: { id: number; params?: Record<string, unknown>; tlvMap?: Record<string, string> }): void;
  export function addTLV(tag: string, options: { id: number; type: unknown; multiple?: boolean; filter?: unknown }): void;

  /** Command status codes (lib/defs.js `errors`). */
  export type SmppErrorName =
    | 'ESME_ROK' | 'ESME_RINVMSGLEN' | 'ESME_RINVCMDLEN' | 'ESME_RINVCMDID' | 'ESME_RINVBNDSTS' | 'ESME_RALYBND'
    | 'ESME_RINVPRTFLG' | 'ESME_RINVREGDLVFLG' | 'ESME_RSYSERR' | 'ESME_RINVSRCADR' | 'ESME_RINVDSTADR'
    | 'ESME_RINVMSGID' | 'ESME_RBINDFAIL' | 'ESME_RINVPASWD' | 'ESME_RINVSYSID' | 'ESME_RCANCELFAIL'
    | 'ESME_RREPLACEFAIL' | 'ESME_RMSGQFUL' | 'ESME_RINVSERTYP' | 'ESME_RINVNUMDESTS' | 'ESME_RINVDLNAME'
    | 'ESME_RINVDESTFLAG' | 'ESME_RINVSUBREP' | 'ESME_RINVESMCLASS' | 'ESME_RCNTSUBDL' | 'ESME_RSUBMITFAIL'
    | 'ESME_RINVSRCTON' | 'ESME_RINVSRCNPI' | 'ESME_RINVDSTTON' | 'ESME_RINVDSTNPI' | 'ESME_RINVSYSTYP'
    | 'ESME_RINVREPFLAG' | 'ESME_RINVNUMMSGS' | 'ESME_RTHROTTLED' | 'ESME_RINVSCHED' | 'ESME_RINVEXPIRY'
    | 'ESME_RINVDFTMSGID' | 'ESME_RX_T_APPN' | 'ESME_RX_P_APPN' | 'ESME_RX_R_APPN' | 'ESME_RQUERYFAIL'
    | 'ESME_RINVTLVSTREAM' | 'ESME_RTLVNOTALLWD' | 'ESME_RINVTLVLEN' | 'ESME_RMISSINGTLV' | 'ESME_RINVTLVVAL'
    | 'ESME_RDELIVERYFAILURE' | 'ESME_RUNKNOWNERR' | 'ESME_RSERTYPUNAUTH' | 'ESME_RPROHIBITED'
    | 'ESME_RSERTYPUNAVAIL' | 'ESME_RSERTYPDENIED' | 'ESME_RINVDCS' | 'ESME_RINVSRCADDRSUBUNIT'
    | 'ESME_RINVDSTADDRSUBUNIT' | 'ESME_RINVBCASTFREQINT' | 'ESME_RINVBCASTALIAS_NAME' | 'ESME_RINVBCASTAREAFMT'
    | 'ESME_RINVNUMBCAST_AREAS' | 'ESME_RINVBCASTCNTTYPE' | 'ESME_RINVBCASTMSGCLASS' | 'ESME_RBCASTFAIL'
    | 'ESME_RBCASTQUERYFAIL' | 'ESME_RBCASTCANCELFAIL' | 'ESME_RINVBCAST_REP' | 'ESME_RINVBCASTSRVGRP'
    | 'ESME_RINVBCASTCHANIND';

  /** Named constant groups (lib/defs.js `consts`); each group is also a top-level property of the module. */
  export interface SmppConsts {
    REGISTERED_DELIVERY: Readonly<Record<'FINAL' | 'FAILURE' | 'SUCCESS' | 'DELIVERY_ACKNOWLEDGEMENT' | 'USER_ACKNOWLEDGEMENT' | 'INTERMEDIATE', number>>;
    ESM_CLASS: Readonly<Record<'DATAGRAM' | 'FORWARD' | 'STORE_FORWARD' | 'MC_DELIVERY_RECEIPT' | 'DELIVERY_ACKNOWLEDGEMENT' | 'USER_ACKNOWLEDGEMENT' | 'CONVERSATION_ABORT' | 'INTERMEDIATE_DELIVERY' | 'UDH_INDICATOR' | 'KANNEL_UDH_INDICATOR' | 'SET_REPLY_PATH', number>>;
    MESSAGE_STATE: Readonly<Record<'SCHEDULED' | 'ENROUTE' | 'DELIVERED' | 'EXPIRED' | 'DELETED' | 'UNDELIVERABLE' | 'ACCEPTED' | 'UNKNOWN' | 'REJECTED' | 'SKIPPED', number>>;
    TON: Readonly<Record<string, number>>;
    NPI: Readonly<Record<string, number>>;
    ENCODING: Readonly<Record<string, number>>;
    NETWORK: Readonly<Record<string, number>>;
    BROADCAST_AREA_FORMAT: Readonly<Record<string, number>>;
    BROADCAST_FREQUENCY_INTERVAL: Readonly<Record<string, number>>;
  }

  /** A text codec of the library (used when it encodes strings or decodes bodies itself). */
  export interface SmppEncoding {
    match(value: string): boolean;
    encode(value: string): Buffer;
    decode(value: Buffer): string;
  }

  /** A field filter: `encode` runs in `toBuffer`, `decode` after parsing, with `this` the PDU. */
  export interface SmppFilter {
    encode(this: PDU, value: unknown): unknown;
    decode(this: PDU, value: unknown, skipUdh?: unknown): unknown;
  }

  /** The module object (`import smpp from 'smpp'`). */
  export interface SmppModule extends SmppConsts, Readonly<Record<SmppErrorName, number>> {
    connect: typeof connect;
    createSession: typeof createSession;
    createServer: typeof createServer;
    addCommand: typeof addCommand;
    addTLV: typeof addTLV;
    PDU: typeof PDU;
    Session: typeof Session;
    Server: typeof Server;
    SecureServer: typeof SecureServer;
    errors: Readonly<Record<SmppErrorName, number>>;
    consts: SmppConsts;
    /** `ASCII` (GSM 03.38), `LATIN1`, `UCS2`; `default` names the one used for data_coding 0. */
    encodings: { ASCII: SmppEncoding; LATIN1: SmppEncoding; UCS2: SmppEncoding; default: string; detect(value: string): string | false };
    /** Mutable, process-wide: changing one changes every session. */
    filters: { message: SmppFilter; [name: string]: SmppFilter };
    commands: Record<string, unknown>;
    tlvs: Record<string, unknown>;
  }

  const smpp: SmppModule;
  export default smpp;
}
