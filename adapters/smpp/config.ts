/**
 * An SMPP link's settings and secrets, as administrators give them to
 * `POST /api/links`. Settings are a union on `mode`: only `client` (the
 * gateway binds to a carrier's SMSC as an ESME) exists today; `server` (ESMEs
 * bind to the gateway) will be a second member.
 *
 * Lengths follow SMPP 3.4 §5.2 (system_id 16, password 9, system_type 13
 * octets including the terminating NUL). Errors name the field: the links
 * API answers 400 with `field` set to it.
 */
import { z } from 'zod';
import { parse } from '../../src/http/validate.ts';

const byte = z.number().int().min(0).max(255);

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
    /** The PSAP's address replies are sent from (empty: the SMSC's default for this bind). */
    sourceAddr: z.string().max(20).default(''),
    sourceAddrTon: byte.default(0),
    sourceAddrNpi: byte.default(0),
    /** Type of number and numbering plan of citizens' MSISDNs (international, E.164 by default). */
    destAddrTon: byte.default(1),
    destAddrNpi: byte.default(1),
    /** Requests outstanding at once (the SMSC's window). */
    window: z.number().int().min(1).max(100).default(10),
    /** submit_sm per second at most. */
    throughput: z.number().positive().max(10_000).default(50),
    enquireLinkSeconds: z.number().positive().max(3600).default(30),
    responseTimeoutMs: z.number().int().min(50).max(120_000).default(10_000),
    reconnectMinMs: z.number().int().min(10).max(600_000).default(1000),
    reconnectMaxMs: z.number().int().min(10).max(3_600_000).default(60_000),
    /** How long the parts of a concatenated message wait for the missing ones before delivery with a gap marker. */
    partsTimeoutSeconds: z.number().positive().max(86_400).default(60),
    /** What data_coding 0 means on this SMSC (GSM 03.38, or Latin-1 on some North American SMSCs). */
    smscDefaultAlphabet: z.enum(['gsm7', 'latin1']).default('gsm7'),
    /** What data_coding 1 carries: ASCII per the specification, GSM 03.38 from some peers. */
    ia5Alphabet: z.enum(['ascii', 'gsm7']).default('ascii'),
  })
  .refine((s) => s.reconnectMaxMs >= s.reconnectMinMs, { message: 'must not be less than reconnectMinMs', path: ['reconnectMaxMs'] });

/** Link settings, one member per mode. */
export const smppSettingsSchema = z.discriminatedUnion('mode', [clientSettingsSchema]);

/** Secrets of an SMPP link: the bind password. */
export const smppSecretsSchema = z.strictObject({ password: z.string().min(1).max(8) });

/** Validated settings of a client-mode link, defaults filled in. */
export type SmppClientSettings = z.infer<typeof clientSettingsSchema>;
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
