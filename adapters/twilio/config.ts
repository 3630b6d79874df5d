/**
 * A Twilio account link's settings and secrets, as administrators give them
 * to `POST /api/links {channel: 'twilio'}`: which account and numbers, the
 * public URL Twilio reaches the gateway at (webhook signatures are computed
 * over it), and how calls are answered. The auth token is the one secret.
 * Errors name the field (`voice.dialNumber`, `phoneNumbers.0`, `authToken`).
 */
import { z } from 'zod';
import { parse } from '../../src/http/validate.ts';

const MB = 1024 * 1024;

/** A Twilio SID: two letters and 32 hex digits. */
const sid = (prefix: string) =>
  z.string().regex(new RegExp(`^${prefix}[0-9a-fA-F]{32}$`), `must be a Twilio SID (${prefix} and 32 hexadecimal digits)`);

/** An E.164 phone number, as Twilio writes them. */
export const e164 = z.string().regex(/^\+[1-9][0-9]{6,14}$/, 'must be an E.164 number (+ and 7 to 15 digits)');

const spoken = (fallback: string) => z.string().trim().min(1).max(1000).default(fallback);

/** How calls to the account's numbers are answered. */
export const voiceSettingsSchema = z
  .strictObject({
    /** Said when the call is answered, before the caller waits for a call-taker. */
    greeting: spoken('You have reached the emergency service. Stay on the line: a call-taker will answer you.'),
    /** Language of the spoken texts (Twilio <Say> language, e.g. en-US, es-MX). */
    language: z
      .string()
      .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a language tag such as en-US')
      .default('en-US'),
    /** `dial`: ring `dialNumber` (a desk phone, an ACD, a SIP trunk); `enqueue`: wait in the Twilio queue `queueName`, answered from there. */
    mode: z.enum(['dial', 'enqueue']).default('enqueue'),
    /** Where `dial` rings: an E.164 number or a sip: URI. */
    dialNumber: z.union([e164, z.string().regex(/^sip:[^\s<>"]{3,250}$/, 'must be an E.164 number or a sip: URI')]).optional(),
    /** The Twilio queue `enqueue` puts callers in. */
    queueName: z.string().trim().min(1).max(64).default('lifeline'),
    /** How long a caller waits for a call-taker (the <Dial> timeout, or time in the queue) before the no-answer path. */
    ringTimeoutSeconds: z.number().int().min(5).max(600).default(30),
    /** Said to a caller waiting in the queue. */
    holdMessage: spoken('Please stay on the line.'),
    /** Said when nobody answered in time; the call becomes a call-back task. */
    noAnswerMessage: spoken('Nobody could take your call right now. We will call you back. If you can, send a text message to this number.'),
    /** Records whole calls (<Start><Recording>); each recording is attached to the conversation. */
    record: z.boolean().default(false),
    /** When nobody answered, asks the caller to leave a message, recorded and transcribed into the conversation. */
    transcribe: z.boolean().default(false),
    voicemailPrompt: spoken('After the tone, say where you are and what happened, then hang up.'),
    /** Longest voicemail (Twilio transcribes up to 120 seconds). */
    maxVoicemailSeconds: z.number().int().min(5).max(120).default(120),
  })
  .refine((v) => v.mode !== 'dial' || v.dialNumber !== undefined, { message: 'required when mode is dial', path: ['dialNumber'] });

/** Settings of one Twilio account link, defaults filled in. */
export const twilioSettingsSchema = z.strictObject({
  accountSid: sid('AC'),
  /** The account's numbers citizens text and call (their webhooks point at this link). */
  phoneNumbers: z
    .array(e164)
    .min(1)
    .max(100)
    .refine((numbers) => new Set(numbers).size === numbers.length, { message: 'must not repeat a number' }),
  /** Sends replies through this Messaging Service when the number a citizen wrote to is not known. */
  messagingServiceSid: sid('MG').optional(),
  /**
   * The URL Twilio reaches the gateway's root at (behind a proxy, the public
   * one): webhook signatures are checked against it plus the request path,
   * and status callback URLs are built from it.
   */
  publicBaseUrl: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .refine((u) => !new URL(u).search && !new URL(u).hash, { message: 'must not have a query or fragment' })
    .transform((u) => u.replace(/\/+$/, '')),
  /** A photo or file received by MMS larger than this is not kept (a note says so). */
  maxMediaBytes: z.number().int().min(1024).max(50 * MB).default(5 * MB),
  /** A call recording larger than this is not kept (a note says so). */
  maxRecordingBytes: z.number().int().min(1024).max(200 * MB).default(25 * MB),
  voice: voiceSettingsSchema.prefault({}),
});

/** Secrets of a Twilio account link: the account's auth token (signs webhooks, authenticates REST calls). */
export const twilioSecretsSchema = z.strictObject({
  authToken: z.string().regex(/^\S{16,256}$/, 'must be the account auth token (16 to 256 characters, no spaces)'),
});

/** Validated settings of a Twilio account link. */
export type TwilioSettings = z.infer<typeof twilioSettingsSchema>;
/** Validated voice settings. */
export type VoiceSettings = TwilioSettings['voice'];
/** Validated secrets of a Twilio account link. */
export type TwilioSecrets = z.infer<typeof twilioSecretsSchema>;

/**
 * Validates a Twilio link's settings and secrets for `LinkRunner.parse`.
 * @throws ValidationError naming the offending field (e.g. `voice.dialNumber`, `authToken`).
 */
export function parseTwilioLink(input: { settings: unknown; secrets: unknown }): { settings: TwilioSettings; secrets: TwilioSecrets } {
  return { settings: parse(twilioSettingsSchema, input.settings, 'settings'), secrets: parse(twilioSecretsSchema, input.secrets, 'secrets') };
}
