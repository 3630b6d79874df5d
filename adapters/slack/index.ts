/**
 * Slack: one link is one Slack app installed in one workspace
 * (`POST /api/links {channel: 'slack'}`). Citizens write to the app by direct
 * message or in the channels the link watches; Slack posts those messages to
 * `POST /webhooks/slack/<link id>/events` (events.ts), which any process
 * serving HTTP answers. Agents' replies go out with chat.postMessage in the
 * thread of the citizen's first message in the channel they last wrote from,
 * sent by the process holding the link's lease (its delivery queue).
 *
 * Bolt's App is not used to receive: it acknowledges Events API requests
 * before its listeners run, and Lifeline answers Slack only once a message is
 * committed. Bolt's signature check and its Web API client are used as they
 * are.
 */
import type { LinkConfig, LinkRunner, LinkStatus } from '../../src/channel.ts';
import { ChannelSendError } from '../../src/errors.ts';
import type { Logger } from '../../src/log.ts';
import { getSlackThreadAnchor } from '../../src/store/slack-threads.ts';
import type { AdapterDeps, ChannelAdapter, OutboundMessage, SendResult } from '../types.ts';
import { slackSecretsSchema, slackSettingsSchema, parseSlackLink, type SlackSettings } from './config.ts';
import { eventsPath, mountEventsRoute } from './events.ts';
import { SlackLinkCache } from './link-cache.ts';
import { escapeSlackText, parseChannelMessageId } from './normalise.ts';
import { classifySlackError, createSlackClient, type SlackClient } from './web-api.ts';

/** Adapter options; tests shorten the budgets. */
export interface SlackAdapterOptions {
  /** How long a process reuses a link read from the store for incoming events (default 2 s). */
  linkCacheMs?: number;
  /** Time allowed for users.info before a message is stored without the sender's name (default 300 ms). */
  userLookupMs?: number;
  /** Time allowed for downloading a message's files (default 1.5 s: Slack wants its answer within 3 s). */
  fileDownloadMs?: number;
  /** A send waits out Slack's Retry-After up to this long; a longer pause fails it as retryable (default 5 s). */
  maxRateLimitWaitMs?: number;
}

const COUNTERS = ['eventsIn', 'messagesIn', 'duplicates', 'ignored', 'badSignatures', 'appRateLimited', 'messagesOut', 'sendFailures', 'rateLimited'] as const;

/** A link this process runs (holds the lease of): it sends the link's replies. */
interface RunningLink {
  id: string;
  name: string;
  settings: SlackSettings;
  client: SlackClient;
  state: LinkStatus['state'];
  since: Date;
  lastError: string | null;
  detail: Record<string, unknown>;
  /** Slack asked us not to call before this time (Retry-After). */
  pausedUntil: number;
}

export function createSlackAdapter(options: SlackAdapterOptions = {}): ChannelAdapter {
  const links = new Map<string, RunningLink>();
  const counters = new Map<string, Record<string, number>>();
  let deps: AdapterDeps | undefined;
  let log: Logger | undefined;
  const maxWaitMs = options.maxRateLimitWaitMs ?? 5000;

  const count = (linkId: string, counter: string, by = 1) => {
    let c = counters.get(linkId);
    if (!c) {
      c = Object.fromEntries(COUNTERS.map((n) => [n, 0]));
      counters.set(linkId, c);
    }
    c[counter] = (c[counter] ?? 0) + by;
  };

  const setState = (link: RunningLink, state: LinkStatus['state'], error: string | null) => {
    if (state !== link.state) link.since = new Date();
    link.state = state;
    link.lastError = error;
  };

  /** Shows the bot's identity, and a token Slack refuses as the link being down. */
  async function checkAuth(link: RunningLink): Promise<void> {
    try {
      const res = await link.client.auth.test();
      if (links.get(link.id) !== link) return;
      Object.assign(link.detail, { team: res.team ?? null, teamId: res.team_id ?? null, botUserId: res.user_id ?? null, botId: res.bot_id ?? null, url: res.url ?? null });
      const expected = link.settings.teamId;
      if (expected && res.team_id && res.team_id !== expected && res.enterprise_id !== expected) {
        setState(link, 'down', `the bot token belongs to team ${res.team_id}, not ${expected}`);
      }
    } catch (err) {
      if (links.get(link.id) !== link) return;
      const failure = classifySlackError(err);
      log?.warn({ linkId: link.id, code: failure.code }, 'Slack auth.test failed');
      if (failure.auth) setState(link, 'down', `Slack: ${failure.message}`);
      else link.lastError = `auth.test: ${failure.message}`;
    }
  }

  /** Waits out a Retry-After Slack gave this link, or fails at once when it is long. */
  async function waitForSlack(link: RunningLink): Promise<void> {
    const wait = link.pausedUntil - Date.now();
    if (wait <= 0) return;
    if (wait > maxWaitMs) {
      throw new ChannelSendError(`Slack: rate limited for another ${Math.ceil(wait / 1000)} s`, { retryable: true });
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }

  const runner: LinkRunner = {
    schemas: { settings: slackSettingsSchema, secrets: slackSecretsSchema },
    parse: (input) => {
      const parsed = parseSlackLink(input);
      return { settings: parsed.settings as unknown as Record<string, unknown>, secrets: parsed.secrets as Record<string, string> };
    },

    async start(link: LinkConfig) {
      if (!deps || !log) throw new Error('the Slack adapter is not started');
      const { settings, secrets } = parseSlackLink(link);
      const running: RunningLink = {
        id: link.id,
        name: link.name,
        settings,
        client: createSlackClient(settings, secrets, log),
        // Nothing to connect: Slack calls in, and each reply is one HTTPS call.
        state: 'up',
        since: new Date(),
        lastError: null,
        detail: { eventsPath: eventsPath(link.id), channels: settings.channels.length, apiUrl: settings.apiUrl },
        pausedUntil: 0,
      };
      links.set(link.id, running);
      void checkAuth(running);
    },

    async stop(linkId: string) {
      links.delete(linkId);
    },

    status(linkId: string): LinkStatus | undefined {
      const link = links.get(linkId);
      if (!link) return undefined;
      return {
        state: link.state,
        since: link.since.toISOString(),
        lastError: link.lastError,
        counters: { ...Object.fromEntries(COUNTERS.map((n) => [n, 0])), ...counters.get(linkId) },
        detail: { ...link.detail },
      };
    },
  };

  return {
    channel: 'slack',
    links: runner,

    async start(d: AdapterDeps) {
      deps = d;
      log = d.log.child({ component: 'slack' });
      mountEventsRoute({
        deps: d,
        links: new SlackLinkCache(d.db, log, options.linkCacheMs ?? 2000),
        count,
        userLookupMs: options.userLookupMs ?? 300,
        fileDownloadMs: options.fileDownloadMs ?? 1500,
      });
    },

    async stop() {
      links.clear();
    },

    async send(message: OutboundMessage): Promise<SendResult> {
      const link = links.get(message.channelLinkId);
      if (!link || !deps) {
        throw new ChannelSendError('the Slack link of this conversation is not running in this process', { retryable: true });
      }
      if (message.attachments.length > 0) {
        throw new ChannelSendError('sending files to Slack is not supported', { retryable: false });
      }
      const anchor = await getSlackThreadAnchor(deps.db, message.conversationId, link.id);
      const thread = anchor ? parseChannelMessageId(anchor) : undefined;
      if (!thread) throw new ChannelSendError('the citizen has written nothing on this Slack link to reply to', { retryable: false });
      await waitForSlack(link);
      let posted: { channel?: string; ts?: string };
      try {
        posted = await link.client.chat.postMessage({
          channel: thread.channel,
          thread_ts: thread.ts,
          text: escapeSlackText(message.text),
          unfurl_links: false,
          unfurl_media: false,
        });
      } catch (err) {
        const failure = classifySlackError(err);
        count(link.id, 'sendFailures');
        if (failure.retryAfterMs !== undefined) {
          count(link.id, 'rateLimited');
          link.pausedUntil = Math.max(link.pausedUntil, Date.now() + failure.retryAfterMs);
        }
        if (failure.auth) setState(link, 'down', `Slack: ${failure.message}`);
        log?.warn({ linkId: link.id, messageId: message.messageId, code: failure.code, retryable: failure.retryable }, 'Slack reply failed');
        throw new ChannelSendError(`Slack: ${failure.message}`, { retryable: failure.retryable, cause: err });
      }
      count(link.id, 'messagesOut');
      if (link.state !== 'up') setState(link, 'up', null);
      return { status: 'sent', ...(posted.ts ? { channelMessageId: `${posted.channel ?? thread.channel}:${posted.ts}` } : {}) };
    },
  };
}
