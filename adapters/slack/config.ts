/**
 * A Slack link's settings and secrets, as administrators give them to
 * `POST /api/links`: one Slack app installed in one workspace. Citizens reach
 * it by direct message or in the channels listed here; Slack posts their
 * messages to `POST /webhooks/slack/<link id>/events`, signed with the app's
 * signing secret, and replies go out with the bot token. Secrets are stored
 * apart and never returned by the API. Errors name the field (`channels.0`,
 * `botToken`).
 */
import { z } from 'zod';
import { parse } from '../../src/http/validate.ts';

const MB = 1024 * 1024;

/** Slack's own Web API; `apiUrl` points elsewhere only for tests or a proxy. */
export const SLACK_API_URL = 'https://slack.com/api/';

/** A channel id: C… (public), G… (private), D… (direct message). */
const channelId = z.string().regex(/^[CGD][A-Z0-9]{2,30}$/, 'must be a Slack channel id such as C0123456789');

/** Settings of one Slack app installation, defaults filled in. */
export const slackSettingsSchema = z.strictObject({
  /** The workspace (T…) or organisation (E…); events from any other team are ignored. Absent: any. */
  teamId: z.string().regex(/^[TE][A-Z0-9]{2,30}$/, 'must be a Slack team id such as T0123456789').optional(),
  /** The app's bot user (U… or W…), whose own messages are never taken as a citizen's. */
  botUserId: z.string().regex(/^[UW][A-Z0-9]{2,30}$/, 'must be a Slack user id such as U0123456789').optional(),
  /** Channels watched besides direct messages to the app; the app must be a member of each. */
  channels: z.array(channelId).max(200).default([]),
  /** Base URL of the Web API, ending in `/`: Slack's unless testing or behind a proxy. */
  apiUrl: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .transform((u) => (u.endsWith('/') ? u : `${u}/`))
    .default(SLACK_API_URL),
  /** A file shared in a message larger than this is noted by name, not downloaded. */
  maxAttachmentBytes: z.number().int().min(1024).max(100 * MB).default(10 * MB),
});

/** Secrets of a Slack link: how Slack's requests are checked and how replies are sent. */
export const slackSecretsSchema = z.strictObject({
  /** The app's signing secret (Basic Information → App Credentials). */
  signingSecret: z.string().min(8, 'must be the app signing secret').max(256),
  /** The bot user OAuth token (xoxb-…), with chat:write (and users:read, files:read for names and files). */
  botToken: z.string().regex(/^xoxb-[\w-]+$/, 'must be a bot token (xoxb-…)').max(512),
});

/** Validated settings of a Slack link. */
export type SlackSettings = z.infer<typeof slackSettingsSchema>;
/** Validated secrets of a Slack link. */
export type SlackSecrets = z.infer<typeof slackSecretsSchema>;

/**
 * Validates a Slack link's settings and secrets for `LinkRunner.parse`.
 * @throws ValidationError naming the offending field (e.g. `channels.0`, `signingSecret`).
 */
export function parseSlackLink(input: { settings: unknown; secrets: unknown }): { settings: SlackSettings; secrets: SlackSecrets } {
  return { settings: parse(slackSettingsSchema, input.settings, 'settings'), secrets: parse(slackSecretsSchema, input.secrets, 'secrets') };
}
