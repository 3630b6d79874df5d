/**
 * Twilio's webhook parameters, read into what the gateway keeps, and
 * Twilio's statuses mapped onto the gateway's. Pure functions.
 */
import { z } from 'zod';
import type { DeliveryStatus } from '../../src/domain/types.ts';
import { ValidationError } from '../../src/errors.ts';
import { parse } from '../../src/http/validate.ts';
import type { CallStatus } from '../../src/store/schema.ts';

/** Form parameters of a webhook, as express parsed them (a repeated key is an array). */
export type WebhookParams = Record<string, string | string[] | undefined>;

const twilioSid = (prefixes: string) => z.string().regex(new RegExp(`^(${prefixes})[0-9a-fA-F]{32}$`), 'must be a Twilio SID');
const field = z.string().trim().max(2000);

/** The first value of a parameter (Twilio sends each once). */
export function param(params: WebhookParams, name: string): string | undefined {
  const value = params[name];
  return Array.isArray(value) ? value[0] : value;
}

const single = (params: WebhookParams): Record<string, string> =>
  Object.fromEntries(Object.entries(params).flatMap(([k, v]) => (v === undefined ? [] : [[k, Array.isArray(v) ? (v[0] ?? '') : v]])));

/** One photo or file of an MMS, as Twilio hosts it. */
export interface IncomingMedia {
  url: string;
  contentType: string;
}

export interface IncomingSms {
  sid: string;
  accountSid: string;
  from: string;
  to: string;
  body: string;
  media: IncomingMedia[];
}

const smsSchema = z.object({
  MessageSid: twilioSid('SM|MM'),
  AccountSid: twilioSid('AC'),
  From: field.min(1),
  To: field.min(1),
  Body: z.string().max(20_000).default(''),
  NumMedia: z.coerce.number().int().min(0).max(10).default(0),
});

/** Reads an incoming-message webhook. @throws ValidationError naming a missing or malformed parameter. */
export function parseSmsWebhook(params: WebhookParams): IncomingSms {
  const flat = single(params);
  const p = parse(smsSchema, flat, 'params');
  const media: IncomingMedia[] = [];
  for (let i = 0; i < p.NumMedia; i++) {
    const url = flat[`MediaUrl${i}`];
    if (!url) throw new ValidationError(`MediaUrl${i}: required when NumMedia is ${p.NumMedia}`, `MediaUrl${i}`);
    media.push({ url, contentType: (flat[`MediaContentType${i}`] ?? 'application/octet-stream').toLowerCase() });
  }
  return { sid: p.MessageSid, accountSid: p.AccountSid, from: p.From, to: p.To, body: p.Body, media };
}

/** What every voice webhook carries. */
export interface CallParams {
  callSid: string;
  accountSid: string;
  from: string;
  to: string;
  callerName: string | undefined;
}

const callSchema = z.object({
  CallSid: twilioSid('CA'),
  AccountSid: twilioSid('AC'),
  From: field.default(''),
  To: field.default(''),
  CallerName: field.optional(),
});

/** Reads the parameters common to voice webhooks. @throws ValidationError naming the parameter. */
export function parseCallParams(params: WebhookParams): CallParams {
  const p = parse(callSchema, single(params), 'params');
  return { callSid: p.CallSid, accountSid: p.AccountSid, from: p.From, to: p.To, callerName: p.CallerName || undefined };
}

/**
 * Whether the caller's number is withheld. Twilio then sends "anonymous",
 * "restricted", "unknown" or +266696687 (its "anonymous" placeholder), which
 * must not merge every withheld caller into one contact.
 */
export function isWithheld(from: string): boolean {
  const digits = from.replace(/[^0-9]/g, '');
  return digits.length < 3 || digits === '266696687' || /^(anonymous|restricted|unknown|private|unavailable)$/i.test(from.trim());
}

/** The sender address a call is filed under: the number, or one address per withheld call. */
export function callerAddress(call: Pick<CallParams, 'from' | 'callSid'>): string {
  return isWithheld(call.from) ? `withheld:${call.callSid}` : call.from;
}

/** "2:05", "1:02:03" */
export function formatSeconds(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

const CALL_STATUSES = ['queued', 'initiated', 'ringing', 'in-progress', 'completed', 'busy', 'failed', 'no-answer', 'canceled'] as const satisfies readonly CallStatus[];
const TERMINAL: readonly CallStatus[] = ['completed', 'busy', 'failed', 'no-answer', 'canceled'];

/** A call status Twilio reported, or undefined for one this gateway does not know. */
export function callStatusOf(value: string | undefined): CallStatus | undefined {
  return CALL_STATUSES.find((s) => s === value);
}

export const isTerminalCallStatus = (status: CallStatus): boolean => TERMINAL.includes(status);

/** How far along a call is: statuses only move forward (callbacks may arrive out of order). */
export function callStatusRank(status: CallStatus): number {
  if (isTerminalCallStatus(status)) return 3;
  if (status === 'in-progress') return 2;
  if (status === 'ringing') return 1;
  return 0;
}

/** What a <Dial> action's DialCallStatus says: a call-taker answered, or nobody did. */
export function dialAnswered(dialCallStatus: string | undefined): boolean {
  return dialCallStatus === 'completed' || dialCallStatus === 'answered';
}

/** What an <Enqueue> action's QueueResult means for the caller. */
export function queueOutcome(queueResult: string | undefined): 'answered' | 'hung-up' | 'not-answered' | 'redirected' {
  switch (queueResult) {
    case 'bridged':
    case 'bridging-in-process':
      return 'answered';
    case 'hangup':
      return 'hung-up';
    case 'redirected':
      return 'redirected';
    default:
      // leave, queue-full, error, system-error
      return 'not-answered';
  }
}

const ERROR_TEXT: Record<string, string> = {
  '21211': "invalid 'To' number",
  '21408': 'no permission to send to this region',
  '21610': 'the recipient has opted out (STOP)',
  '21612': 'this number cannot be reached from the sender',
  '21614': 'not a mobile number',
  '30001': 'queue overflow',
  '30002': 'account suspended',
  '30003': 'unreachable destination handset',
  '30004': 'message blocked',
  '30005': 'unknown destination handset',
  '30006': 'landline or unreachable carrier',
  '30007': 'filtered by the carrier',
  '30008': 'unknown error',
};

/** "30003 unreachable destination handset", or the bare code. */
export function describeErrorCode(code: string | number | undefined | null): string | undefined {
  if (code === undefined || code === null || code === '') return undefined;
  const text = ERROR_TEXT[String(code)];
  return text ? `${code} ${text}` : String(code);
}

/**
 * A message status callback as a delivery status for the console, or null
 * for statuses that say nothing about delivery. `undelivered` and `failed`
 * both show as failed, with Twilio's error code and what it means.
 */
export function deliveryFromMessageStatus(status: string | undefined, errorCode?: string): { status: DeliveryStatus; error: string | null } | null {
  const reason = (what: string) => {
    const described = describeErrorCode(errorCode);
    return described ? `${what}: ${described}` : what;
  };
  switch (status) {
    case 'accepted':
    case 'scheduled':
    case 'queued':
    case 'sending':
      return { status: 'queued', error: null };
    case 'sent':
      return { status: 'sent', error: null };
    case 'delivered':
    case 'read':
      return { status: 'delivered', error: null };
    case 'undelivered':
      return { status: 'failed', error: reason('undelivered') };
    case 'failed':
      return { status: 'failed', error: reason('failed') };
    case 'canceled':
      return { status: 'failed', error: 'canceled' };
    default:
      return null;
  }
}

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/heic': 'heic',
  'video/mp4': 'mp4',
  'video/3gpp': '3gp',
  'audio/mpeg': 'mp3',
  'audio/amr': 'amr',
  'audio/ogg': 'ogg',
  'text/vcard': 'vcf',
  'text/x-vcard': 'vcf',
  'text/plain': 'txt',
  'application/pdf': 'pdf',
};

/** A file name for the n-th (0-based) media item of a message: "media-1.jpg". */
export function mediaName(contentType: string, index: number): string {
  const base = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return `media-${index + 1}.${EXTENSIONS[base] ?? 'bin'}`;
}
