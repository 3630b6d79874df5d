/**
 * What the webhook handlers share: the core's adapter dependencies, the
 * per-process counters, and the link a verified webhook belongs to.
 */
import type { Logger } from '../../src/log.ts';
import type { AdapterDeps } from '../types.ts';
import type { TwilioSecrets, TwilioSettings } from './config.ts';
import type { WebhookUrls } from './twiml.ts';

/** Counters kept per link (shown in the link's status by the process running it). */
export type TwilioCounter =
  | 'smsIn'
  | 'smsOut'
  | 'callsIn'
  | 'duplicates'
  | 'statusCallbacks'
  | 'badSignatures'
  | 'abandonedCalls'
  | 'recordings'
  | 'transcriptions'
  | 'mediaNotKept'
  | 'sendFailures';

export interface TwilioContext {
  deps: AdapterDeps;
  log: Logger;
  /** The REST API origin (Twilio's unless a test or a proxy says otherwise); media is fetched only from it. */
  apiBaseUrl: string | undefined;
  fetchTimeoutMs: number;
  count(linkId: string, counter: TwilioCounter, by?: number): void;
}

/** A link a webhook was verified for: its validated settings and secrets, and its webhook URLs. */
export interface WebhookLink {
  id: string;
  name: string;
  settings: TwilioSettings;
  secrets: TwilioSecrets;
  urls: WebhookUrls;
}
