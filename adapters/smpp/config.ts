/**
 * An SMPP link's settings and secrets, as administrators give them to
 * `POST /api/links`. Settings are a union on `mode`: `client` (the gateway
 * binds to a carrier's SMSC as an ESME) and `server` (a carrier, aggregator
 * or text control centre binds to the gateway, which acts as its SMSC).
 *
 * Lengths follow SMPP 3.4 §5.2 (system_id 16, password 9, system_type 13
 * octets including the terminating NUL). Errors name the field: the links
 * API answers 400 with `field` set to it.
 */
import { z } from 'zod';
import { parse } from '../../src/http/validate.ts';

const byte = z.number().int().min(0).max(255);

/** Fields both modes share: addressing of replies, flow control, timers, alphabets. */
const sharedFields = {
  /** The PSAP's address replies are sent from (client: empty means the SMSC's default for this bind). */
  sourceAddr: z.string().max(20).default(''),
  sourceAddrTon: byte.default(0),
  sourceAddrNpi: byte.default(0),
  /** Type of number and numbering plan of citizens' MSISDNs (international, E.164 by default). */
  destAddrTon: byte.default(1),
  destAddrNpi: byte.default(1),
  /** Requests outstanding at once (the peer's window). */
  window: z.number().int().min(1).max(100).default(10),
  /** Outbound messages (submit_sm or deliver_sm) per second at most. */
  throughput: z.number().positive().max(10_000).default(50),
  enquireLinkSeconds: z.number().positive().max(3600).default(30),
  responseTimeoutMs: z.number().int().min(50).max(120_000).default(10_000),
  /** How long the parts of a concatenated message wait for the missing ones before delivery with a gap marker. */
  partsTimeoutSeconds: z.number().positive().max(86_400).default(60),
  /** What data_coding 0 means on this peer (GSM 03.38, or Latin-1 on some North American SMSCs). */
  smscDefaultAlphabet: z.enum(['gsm7', 'latin1']).default('gsm7'),
  /** What data_coding 1 carries: ASCII per the specification, GSM 03.38 from some peers. */
  ia5Alphabet: z.enum(['ascii', 'gsm7']).default('ascii'),
};

/** Settings of a link on which the gateway is the client (ESME) of a carrier SMSC. */
export const clientSettingsSchema = z
  .strictObject({
    mode: z.literal('client'),
    host: z.string().trim().min(1).max(255),
    port: z.number().int().min(1).max(65535),
    systemId: z.string().min(1).max(15),
    systemType: z.string().max(12).default(''),
    bindMode: z.enum(['transceiver', 'receiver', 'transmitter']).default('transceiver'),
    /** TLS to the SMSC; a self-signed certificate is accepted only with `tlsRejectUnauthorized: false`. */
    tls: z.boolean().default(false),
    tlsRejectUnauthorized: z.boolean().default(true),
    reconnectMinMs: z.number().int().min(10).max(600_000).default(1000),
    reconnectMaxMs: z.number().int().min(10).max(3_600_000).default(60_000),
    ...sharedFields,
  })
  .refine((s) => s.reconnectMaxMs >= s.reconnectMinMs, { message: 'must not be less than reconnectMinMs', path: ['reconnectMaxMs'] });

/**
 * Settings of a link on which peers (ESMEs) bind to the gateway. TLS reads a
 * PEM key and certificate from files on the gateway's host: paths, not
 * secrets, so the key never passes through the API or the database.
 */
export const serverSettingsSchema = z
  .strictObject({
    mode: z.literal('server'),
    /** Interface to listen on. */
    host: z.string().trim().min(1).max(255).default('0.0.0.0'),
    port: z.number().int().min(1).max(65535),
    /** The system_id peers must bind with (with the link's password). */
    systemId: z.string().min(1).max(15),
    /** The system_id answered in bind responses. */
    serverSystemId: z.string().min(1).max(15).default('LIFELINE'),
    /** Peer IP addresses allowed to connect; absent: any. */
    allowedAddresses: z.array(z.union([z.ipv4(), z.ipv6()])).min(1).max(100).optional(),
    /** Seconds a connection may stay unbound before it is closed. */
    bindTimeoutSeconds: z.number().positive().max(300).default(5),
    /** Peers bound at once at most (each bind is one session). */
    maxPeers: z.number().int().min(1).max(100).default(4),
    tls: z.boolean().default(false),
    tlsKeyPath: z.string().min(1).max(4096).optional(),
    tlsCertPath: z.string().min(1).max(4096).optional(),
    ...sharedFields,
  })
  .refine((s) => !s.tls || (s.tlsKeyPath !== undefined && s.tlsCertPath !== undefined), {
    message: 'tls needs tlsKeyPath and tlsCertPath',
    path: ['tls'],
  });

/** Link settings, one member per mode. */
export const smppSettingsSchema = z.discriminatedUnion('mode', [clientSettingsSchema, serverSettingsSchema]);

/** Secrets of an SMPP link: the bind password. */
export const smppSecretsSchema = z.strictObject({ password: z.string().min(1).max(8) });

/** Validated settings of a client-mode link, defaults filled in. */
export type SmppClientSettings = z.infer<typeof clientSettingsSchema>;
/** Validated settings of a server-mode link, defaults filled in. */
export type SmppServerSettings = z.infer<typeof serverSettingsSchema>;
/** Validated settings of any SMPP link. */
export type SmppSettings = z.infer<typeof smppSettingsSchema>;
/** Validated secrets of an SMPP link. */
export type SmppSecrets = z.infer<typeof smppSecretsSchema>;

/**
 * Validates a link's settings and secrets for `LinkRunner.parse`.
 * @throws ValidationError naming the offending field (e.g. `port`, `password`).
 */
export function parseSmppLink(input: { settings: unknown; secrets: unknown }): { settings: SmppSettings; secrets: SmppSecrets } {
  return { settings: parse(smppSettingsSchema, input.settings, 'settings'), secrets: parse(smppSecretsSchema, input.secrets, 'secrets') };
}
