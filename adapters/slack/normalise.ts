/**
 * From a signed Events API payload to what the gateway does with it: answer
 * Slack's URL check, take a citizen's message, or ignore the event (the app's
 * own posts, other bots, channels not watched, other teams, housekeeping
 * subtypes). No I/O.
 *
 * A citizen's message is identified by `<channel>:<ts>`, which Slack keeps
 * across its retries, so a retried event is stored once. Edits and deletions
 * matter in an emergency ("I'm at 14 Main St, not 41"): they are stored as
 * messages of their own, marked, in the conversation of the message they
 * change.
 */
import { z } from 'zod';
import type { SlackSettings } from './config.ts';

const fileSchema = z.looseObject({
  id: z.string().optional(),
  name: z.string().nullish(),
  title: z.string().nullish(),
  mimetype: z.string().nullish(),
  size: z.number().nullish(),
  /** 'hosted', 'external', 'snippet', 'hidden_by_limit', 'tombstone'… */
  mode: z.string().nullish(),
  url_private_download: z.string().nullish(),
  url_private: z.string().nullish(),
});

const messageSchema = z.looseObject({
  subtype: z.string().optional(),
  user: z.string().optional(),
  bot_id: z.string().nullish(),
  text: z.string().nullish(),
  ts: z.string().optional(),
  thread_ts: z.string().optional(),
  team: z.string().optional(),
  user_team: z.string().optional(),
  files: z.array(fileSchema).optional(),
  edited: z.looseObject({ ts: z.string().optional() }).optional(),
});

const eventSchema = messageSchema.extend({
  type: z.string(),
  channel: z.string().optional(),
  channel_type: z.string().optional(),
  message: messageSchema.optional(),
  previous_message: messageSchema.optional(),
  deleted_ts: z.string().optional(),
});

const envelopeSchema = z.looseObject({
  type: z.string(),
  challenge: z.string().optional(),
  team_id: z.string().optional(),
  event_id: z.string().optional(),
  event: z.unknown().optional(),
  authorizations: z.array(z.looseObject({ user_id: z.string().optional(), is_bot: z.boolean().optional() })).optional(),
});

/** A file shared in a Slack message, as the event describes it. */
export type SlackFile = z.infer<typeof fileSchema>;

/** A citizen's message (or an edit or deletion of one), ready to be stored. */
export interface SlackCitizenMessage {
  kind: 'message' | 'edit' | 'deletion';
  /** The citizen's team and user: the contact address is `team:user`. */
  team: string;
  user: string;
  channel: string;
  /** `<channel>:<ts>`, plus `:edited:<ts>` or `:deleted` for edits and deletions. */
  channelMessageId: string;
  /** Messages this one answers or changes (`<channel>:<ts>`): it joins their conversation. */
  threadIds: string[];
  /** Plain text, Slack's markup turned into what a person reads. */
  text: string;
  files: SlackFile[];
  receivedAt: Date;
  eventId?: string;
}

export type SlackEventOutcome =
  | { kind: 'url_verification'; challenge: string }
  | { kind: 'rate_limited' }
  | { kind: 'message'; message: SlackCitizenMessage }
  | { kind: 'ignored'; reason: string; unexpected?: boolean };

/** Subtypes of a plain message a citizen writes; every other subtype is housekeeping. */
const CITIZEN_SUBTYPES = new Set([undefined, 'file_share', 'thread_broadcast', 'me_message']);

const ignored = (reason: string, unexpected = false): SlackEventOutcome => ({ kind: 'ignored', reason, ...(unexpected ? { unexpected } : {}) });

/** Slack's `1712345678.123456` as a date; now when it does not parse. */
function tsDate(ts: string | undefined, now: Date): Date {
  const seconds = Number(ts);
  return Number.isFinite(seconds) && seconds > 0 ? new Date(Math.round(seconds * 1000)) : now;
}

/**
 * Slack's message markup as a person reads it: `<@U1|ann>` → `@ann`,
 * `<#C1|general>` → `#general`, `<!here>` → `@here`, `<https://x|label>` →
 * `label (https://x)`, and `&lt; &gt; &amp;` unescaped.
 */
export function slackToPlainText(text: string): string {
  const marked = text.replace(/<([^<>]*)>/g, (_all, inner: string) => {
    const bar = inner.indexOf('|');
    const target = bar >= 0 ? inner.slice(0, bar) : inner;
    const label = bar >= 0 ? inner.slice(bar + 1) : '';
    if (target.startsWith('@')) return label ? `@${label.replace(/^@/, '')}` : target;
    if (target.startsWith('#')) return label ? `#${label.replace(/^#/, '')}` : target;
    if (target.startsWith('!')) {
      const special = target.slice(1);
      if (label) return label;
      return ['here', 'channel', 'everyone'].includes(special) ? `@${special}` : `@${special.split('^')[0]}`;
    }
    const url = target.startsWith('mailto:') ? target.slice('mailto:'.length) : target;
    // A link Slack made of what was typed (`<http://x.org|x.org>`) reads as typed.
    if (!label || label === url || label === url.replace(/^[a-z]+:\/\//i, '').replace(/\/$/, '')) return label || url;
    return `${label} (${url})`;
  });
  return marked.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** Text for Slack: `& < >` escaped so an agent's words never become mentions or links by accident. */
export function escapeSlackText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** `<channel>:<ts>` of a stored Slack message id (edits and deletions carry more after it). */
export function parseChannelMessageId(id: string): { channel: string; ts: string } | undefined {
  const [channel, ts] = id.split(':');
  return channel && ts ? { channel, ts } : undefined;
}

/** Settings the classification depends on. */
export type ClassifySettings = Pick<SlackSettings, 'teamId' | 'botUserId' | 'channels'>;

/**
 * What to do with one Events API payload (already verified as Slack's).
 * Never throws: a payload it cannot read is ignored with `unexpected` set.
 */
export function classifySlackPayload(payload: unknown, settings: ClassifySettings, now = new Date()): SlackEventOutcome {
  const envelope = envelopeSchema.safeParse(payload);
  if (!envelope.success) return ignored('not an Events API payload', true);
  const body = envelope.data;
  if (body.type === 'url_verification') {
    return body.challenge ? { kind: 'url_verification', challenge: body.challenge } : ignored('url_verification without a challenge', true);
  }
  if (body.type === 'app_rate_limited') return { kind: 'rate_limited' };
  if (body.type !== 'event_callback') return ignored(`payload type ${body.type}`);
  if (settings.teamId && body.team_id !== settings.teamId) return ignored(`event from team ${body.team_id ?? 'unknown'}`);
  const parsed = eventSchema.safeParse(body.event);
  if (!parsed.success) return ignored('event without a type', true);
  const event = parsed.data;
  if (event.type !== 'message') return ignored(`event type ${event.type}`);
  const channel = event.channel;
  if (!channel) return ignored('message without a channel', true);
  const direct = event.channel_type === 'im' || channel.startsWith('D');
  if (!direct && !settings.channels.includes(channel)) return ignored(`channel ${channel} is not watched`);

  const selfIds = new Set([settings.botUserId, ...(body.authorizations ?? []).filter((a) => a.is_bot).map((a) => a.user_id)]);
  const isCitizen = (m: z.infer<typeof messageSchema>): m is typeof m & { user: string } =>
    typeof m.user === 'string' && m.user !== '' && !m.bot_id && m.subtype !== 'bot_message' && !selfIds.has(m.user);
  const teamOf = (m: z.infer<typeof messageSchema>) => m.user_team ?? m.team ?? body.team_id ?? 'unknown';
  const common = { channel, ...(body.event_id ? { eventId: body.event_id } : {}) };

  if (event.subtype === 'message_changed') {
    const current = event.message;
    if (!current?.ts || !isCitizen(current)) return ignored('a message changed that is not a citizen’s');
    if (!current.edited || (current.text ?? '') === (event.previous_message?.text ?? '')) return ignored('message changed without an edit of its text');
    return {
      kind: 'message',
      message: {
        ...common,
        kind: 'edit',
        team: teamOf(current),
        user: current.user,
        channelMessageId: `${channel}:${current.ts}:edited:${current.edited.ts ?? event.ts ?? ''}`,
        threadIds: [`${channel}:${current.ts}`],
        text: `[edited an earlier message] ${slackToPlainText(current.text ?? '')}`,
        files: [],
        receivedAt: tsDate(current.edited.ts ?? event.ts, now),
      },
    };
  }
  if (event.subtype === 'message_deleted') {
    const previous = event.previous_message;
    const deletedTs = event.deleted_ts ?? previous?.ts;
    if (!previous || !deletedTs || !isCitizen(previous)) return ignored('a message deleted that is not a citizen’s');
    const was = slackToPlainText(previous.text ?? '').trim();
    return {
      kind: 'message',
      message: {
        ...common,
        kind: 'deletion',
        team: teamOf(previous),
        user: previous.user,
        channelMessageId: `${channel}:${deletedTs}:deleted`,
        threadIds: [`${channel}:${deletedTs}`],
        text: was ? `[deleted an earlier message] ${was}` : '[deleted an earlier message]',
        files: [],
        receivedAt: tsDate(event.ts, now),
      },
    };
  }
  if (!CITIZEN_SUBTYPES.has(event.subtype)) return ignored(`message subtype ${event.subtype}`);
  if (!isCitizen(event)) return ignored('a bot’s message');
  if (!event.ts) return ignored('message without a ts', true);
  return {
    kind: 'message',
    message: {
      ...common,
      kind: 'message',
      team: teamOf(event),
      user: event.user,
      channelMessageId: `${channel}:${event.ts}`,
      threadIds: event.thread_ts && event.thread_ts !== event.ts ? [`${channel}:${event.thread_ts}`] : [],
      text: slackToPlainText(event.text ?? ''),
      files: event.files ?? [],
      receivedAt: tsDate(event.ts, now),
    },
  };
}

/** `2.1 MB`, `340 KB`, `12 bytes`. */
export function formatSize(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}

/** A file's name as people see it. */
export function fileName(file: SlackFile): string {
  return file.name || file.title || file.id || 'file';
}

/** One line telling the agent about a file that was not kept, and why. */
export function fileNote(file: SlackFile, why: string): string {
  const facts = [file.mimetype, typeof file.size === 'number' ? formatSize(file.size) : undefined].filter(Boolean).join(', ');
  return `[file ${fileName(file)}${facts ? ` (${facts})` : ''} not kept: ${why}]`;
}

/** Text cut to `max` characters with a visible marker of what was left out. */
export function fitText(text: string, max: number): string {
  if (text.length <= max) return text;
  // 40 characters hold the marker for any length a message can have.
  const keep = Math.max(0, max - 40);
  return `${text.slice(0, keep)}… [${text.length - keep} more characters not shown]`;
}
