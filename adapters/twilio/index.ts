/**
 * Twilio: accounts administrators add at run time (`POST /api/links
 * {channel: 'twilio'}`), one link per account, carrying SMS conversations
 * (channel `sms`, a second SMS channel beside SMPP) and calls (channel
 * `voice`).
 *
 * Webhooks (webhooks.ts) are served by every process that serves HTTP, each
 * signature-checked against the link's stored auth token. Replies go out
 * through the REST API from the process running the link (the holder of its
 * lease, which consumes the link's delivery queue), from the number the
 * citizen wrote to or called, with a status callback that moves the
 * message's delivery status in the console.
 */
import type { LinkConfig, LinkRunner, LinkStatus } from '../../src/channel.ts';
import { ChannelSendError } from '../../src/errors.ts';
import { lastNumberReached, recordTwilioMessage } from '../../src/store/twilio-messages.ts';
import type { AdapterDeps, ChannelAdapter, OutboundMessage, SendResult } from '../types.ts';
import { twilioSecretsSchema, twilioSettingsSchema, parseTwilioLink, type TwilioSecrets, type TwilioSettings } from './config.ts';
import type { TwilioContext, TwilioCounter } from './context.ts';
import { checkAccount, createRestClient, isAuthFailure, sendSms, type TwilioClient } from './rest.ts';
import { webhookUrls } from './twiml.ts';
import { twilioWebhooks } from './webhooks.ts';

/** Adapter options; tests point the REST API (and media fetches) at a local fake. */
export interface TwilioAdapterOptions {
  /** Twilio's REST API origin (default https://api.twilio.com). */
  apiBaseUrl?: string;
  /** How long to wait before checking an account whose check failed again (default 30 s). */
  accountRecheckMs?: number;
  /** Timeout of one REST request or media fetch (default 15 s REST, 10 s media). */
  restTimeoutMs?: number;
  fetchTimeoutMs?: number;
}

interface RunningLink {
  id: string;
  settings: TwilioSettings;
  secrets: TwilioSecrets;
  client: TwilioClient;
  state: LinkStatus['state'];
  since: string;
  lastError: string | null;
  recheck?: NodeJS.Timeout;
}

/** A withheld caller's contact has no number to text. */
const textable = (to: string) => /^\+?[0-9]{3,15}$/.test(to);

/** Creates the Twilio channel adapter. Webhook routes are mounted at start. */
export function createTwilioAdapter(options: TwilioAdapterOptions = {}): ChannelAdapter {
  const links = new Map<string, RunningLink>();
  const counters = new Map<string, Record<string, number>>();
  let deps: AdapterDeps | undefined;
  let ctx: TwilioContext | undefined;

  const count = (linkId: string, counter: TwilioCounter, by = 1) => {
    const c = counters.get(linkId) ?? {};
    c[counter] = (c[counter] ?? 0) + by;
    counters.set(linkId, c);
  };

  const setState = (link: RunningLink, state: LinkStatus['state'], lastError: string | null) => {
    if (link.state !== state) link.since = new Date().toISOString();
    link.state = state;
    link.lastError = lastError;
  };

  /** Checks the account's credentials; a failure is shown and checked again later. */
  async function check(link: RunningLink): Promise<void> {
    try {
      await checkAccount(link.client, link.settings.accountSid);
      if (links.get(link.id) === link) setState(link, 'up', null);
    } catch (err) {
      if (links.get(link.id) !== link) return;
      setState(link, 'down', err instanceof Error ? err.message : String(err));
      ctx?.log.warn({ linkId: link.id, err }, 'Twilio account check failed');
      link.recheck = setTimeout(() => void check(link), options.accountRecheckMs ?? 30_000);
      link.recheck.unref();
    }
  }

  async function stopLink(linkId: string): Promise<void> {
    const running = links.get(linkId);
    if (!running) return;
    links.delete(linkId);
    if (running.recheck) clearTimeout(running.recheck);
  }

  const runner: LinkRunner = {
    schemas: { settings: twilioSettingsSchema, secrets: twilioSecretsSchema },
    parse: (input) => {
      const parsed = parseTwilioLink(input);
      return { settings: parsed.settings as unknown as Record<string, unknown>, secrets: parsed.secrets as Record<string, string> };
    },

    async start(link: LinkConfig) {
      if (!deps) throw new Error('the Twilio adapter is not started');
      await stopLink(link.id);
      const { settings, secrets } = parseTwilioLink(link);
      const client = createRestClient(settings.accountSid, secrets.authToken, {
        ...(options.apiBaseUrl ? { apiBaseUrl: options.apiBaseUrl } : {}),
        ...(options.restTimeoutMs ? { timeoutMs: options.restTimeoutMs } : {}),
      });
      const running: RunningLink = { id: link.id, settings, secrets, client, state: 'connecting', since: new Date().toISOString(), lastError: null };
      links.set(link.id, running);
      void check(running);
    },

    stop: stopLink,

    status(linkId: string): LinkStatus | undefined {
      const running = links.get(linkId);
      if (!running) return undefined;
      return {
        state: running.state,
        since: running.since,
        lastError: running.lastError,
        counters: { ...counters.get(linkId) },
        detail: { accountSid: running.settings.accountSid, phoneNumbers: running.settings.phoneNumbers, voiceMode: running.settings.voice.mode },
      };
    },
  };

  /** The sender of a reply: the number the citizen reached, else the messaging service, else the link's first number. */
  async function senderFor(link: RunningLink, message: OutboundMessage): Promise<{ from?: string; messagingServiceSid?: string }> {
    const reached = await lastNumberReached((deps as AdapterDeps).db, message.conversationId, link.id);
    if (reached && link.settings.phoneNumbers.includes(reached)) return { from: reached };
    if (link.settings.messagingServiceSid) return { messagingServiceSid: link.settings.messagingServiceSid };
    return { from: link.settings.phoneNumbers[0] };
  }

  return {
    channel: 'twilio',
    links: runner,

    async start(d: AdapterDeps) {
      deps = d;
      ctx = { deps: d, log: d.log.child({ component: 'twilio' }), apiBaseUrl: options.apiBaseUrl, fetchTimeoutMs: options.fetchTimeoutMs ?? 10_000, count };
      d.app.use('/webhooks/twilio', twilioWebhooks(ctx));
    },

    async stop() {
      await Promise.allSettled([...links.keys()].map((id) => stopLink(id)));
    },

    async send(message: OutboundMessage): Promise<SendResult> {
      const link = links.get(message.channelLinkId);
      if (!link || !deps) throw new ChannelSendError('the Twilio account of this conversation is not running in this process', { retryable: true });
      if (!textable(message.to)) throw new ChannelSendError(`cannot text ${message.to}: the caller's number was withheld`, { retryable: false });
      if (message.text.trim() === '') throw new ChannelSendError('nothing to send: Twilio replies carry text only', { retryable: false });
      const sender = await senderFor(link, message);
      let sent: { sid: string; status: string };
      try {
        sent = await sendSms(link.client, {
          to: message.to,
          ...sender,
          body: message.text,
          statusCallback: webhookUrls(link.settings.publicBaseUrl, link.id).smsStatus(message.messageId),
        });
      } catch (err) {
        count(link.id, 'sendFailures');
        if (isAuthFailure(err)) setState(link, 'down', (err as Error).message);
        throw err;
      }
      count(link.id, 'smsOut');
      if (link.state !== 'up') setState(link, 'up', null);
      // Sent: a failure to keep the SID must not fail the send (its retry would text the citizen twice).
      await recordTwilioMessage(deps.db, {
        linkId: link.id,
        sid: sent.sid,
        messageId: message.messageId,
        direction: 'outbound',
        fromNumber: sender.from ?? null,
        toNumber: message.to,
        status: sent.status,
      }).catch((err: unknown) => ctx?.log.error({ err, messageId: message.messageId, sid: sent.sid }, 'keeping the SID of a sent SMS failed'));
      return { status: 'sent', channelMessageId: sent.sid };
    },
  };
}
