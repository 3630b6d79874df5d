import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  classifySlackPayload,
  escapeSlackText,
  fileNote,
  fitText,
  parseChannelMessageId,
  slackToPlainText,
  type ClassifySettings,
  type SlackEventOutcome,
} from '../../../adapters/slack/normalise.ts';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../../fixtures/slack/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
const settings: ClassifySettings = { channels: ['C0WATCHED'] };
const NOW = new Date('2024-04-05T20:00:00Z');

/** The fixture with its event changed by `patch`. */
function withEvent(name: string, patch: Record<string, unknown>, envelope: Record<string, unknown> = {}): Record<string, unknown> {
  const payload = fixture(name);
  return { ...payload, ...envelope, event: { ...(payload.event as object), ...patch } };
}

function message(outcome: SlackEventOutcome) {
  if (outcome.kind !== 'message') throw new Error(`expected a message, got ${JSON.stringify(outcome)}`);
  return outcome.message;
}

describe('classifySlackPayload', () => {
  it('answers URL verification with its challenge', () => {
    expect(classifySlackPayload(fixture('url-verification'), settings)).toEqual({
      kind: 'url_verification',
      challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
    });
  });

  it('takes a direct message: id stable across retries, contact team:user, markup turned into text, Slack’s time', () => {
    const m = message(classifySlackPayload(fixture('message-im'), settings, NOW));
    expect(m).toEqual({
      kind: 'message',
      team: 'T061EG9R6',
      user: 'U061F7AUR',
      channel: 'D0PNCRP9N',
      channelMessageId: 'D0PNCRP9N:1712345678.123456',
      threadIds: [],
      text: 'help @U0LIFELINE my neighbour & me are trapped <3rd floor> see here (https://maps.example.org/?q=1)',
      files: [],
      receivedAt: new Date(1712345678123),
      eventId: 'Ev0PV52K21',
    });
    // The same event again (a retry carries the same payload): the same id.
    expect(message(classifySlackPayload(fixture('message-im'), settings)).channelMessageId).toBe(m.channelMessageId);
  });

  it('takes a message in a watched channel and ignores one in any other channel', () => {
    const watched = withEvent('message-im', { channel: 'C0WATCHED', channel_type: 'channel' });
    expect(message(classifySlackPayload(watched, settings)).channelMessageId).toBe('C0WATCHED:1712345678.123456');
    const other = classifySlackPayload(withEvent('message-im', { channel: 'C0OTHER', channel_type: 'channel' }), settings);
    expect(other).toEqual({ kind: 'ignored', reason: 'channel C0OTHER is not watched' });
  });

  it('ignores events from another team when the link names its team', () => {
    const payload = fixture('message-im');
    expect(classifySlackPayload(payload, { ...settings, teamId: 'T061EG9R6' }).kind).toBe('message');
    expect(classifySlackPayload(payload, { ...settings, teamId: 'T0OTHER' })).toEqual({ kind: 'ignored', reason: 'event from team T061EG9R6' });
  });

  it('ignores the app’s own posts, other bots and the configured bot user', () => {
    expect(classifySlackPayload(fixture('message-bot-own'), settings).kind).toBe('ignored');
    expect(classifySlackPayload(withEvent('message-im', { subtype: 'bot_message', bot_id: 'B0OTHER', user: undefined }), settings).kind).toBe('ignored');
    // No bot_id, but the user is the app's bot (from the authorizations, or the setting).
    expect(classifySlackPayload(withEvent('message-im', { user: 'U0LIFELINE' }), settings).kind).toBe('ignored');
    const noAuthorizations = withEvent('message-im', { user: 'U0MYBOT' }, { authorizations: [] });
    expect(classifySlackPayload(noAuthorizations, settings).kind).toBe('message');
    expect(classifySlackPayload(noAuthorizations, { ...settings, botUserId: 'U0MYBOT' }).kind).toBe('ignored');
  });

  it.each(['channel_join', 'channel_topic', 'pinned_item', 'message_replied', 'ekm_access_denied'])('ignores the %s subtype', (subtype) => {
    expect(classifySlackPayload(withEvent('message-im', { subtype }), settings)).toMatchObject({ kind: 'ignored', reason: `message subtype ${subtype}` });
  });

  it('ignores other event types and payload types', () => {
    expect(classifySlackPayload(withEvent('message-im', { type: 'app_mention' }), settings)).toMatchObject({ kind: 'ignored' });
    expect(classifySlackPayload({ type: 'app_rate_limited', team_id: 'T061EG9R6', minute_rate_limited: 1518467820 }, settings)).toEqual({ kind: 'rate_limited' });
    expect(classifySlackPayload({ type: 'block_actions' }, settings)).toMatchObject({ kind: 'ignored' });
  });

  it('marks a payload it cannot read as unexpected, without throwing', () => {
    for (const payload of [null, 'text', [], { no: 'type' }, { type: 'event_callback', event: 'x' }, { type: 'event_callback', event: { type: 'message', user: 'U1', ts: '1.2' } }]) {
      expect(classifySlackPayload(payload, settings), JSON.stringify(payload)).toMatchObject({ kind: 'ignored', unexpected: true });
    }
  });

  it('keeps the files of a file_share message for download', () => {
    const m = message(classifySlackPayload(fixture('message-file-share'), settings));
    expect(m.text).toBe('this is the car');
    expect(m.files).toEqual([expect.objectContaining({ name: 'IMG_0042.jpg', mimetype: 'image/jpeg', size: 204800, url_private_download: expect.stringContaining('files.slack.com') })]);
  });

  it('joins a thread reply to the thread’s message', () => {
    const m = message(classifySlackPayload(withEvent('message-im', { ts: '1712345999.000100', thread_ts: '1712345678.123456' }), settings));
    expect(m.channelMessageId).toBe('D0PNCRP9N:1712345999.000100');
    expect(m.threadIds).toEqual(['D0PNCRP9N:1712345678.123456']);
  });

  it('records an edit of the text, in the conversation of the edited message', () => {
    const m = message(classifySlackPayload(fixture('message-changed'), settings));
    expect(m).toMatchObject({
      kind: 'edit',
      user: 'U061F7AUR',
      team: 'T061EG9R6',
      channelMessageId: 'D0PNCRP9N:1712345678.123456:edited:1712345800.000000',
      threadIds: ['D0PNCRP9N:1712345678.123456'],
      text: '[edited an earlier message] I am at 14 Main St',
      receivedAt: new Date(1712345800000),
    });
  });

  it('ignores a change that is not an edit of the text (an unfurl) and a change to a bot’s message', () => {
    const payload = fixture('message-changed');
    const event = payload.event as { message: Record<string, unknown>; previous_message: Record<string, unknown> };
    const unfurl = withEvent('message-changed', { message: { ...event.previous_message, attachments: [{ title: 'preview' }] } });
    expect(classifySlackPayload(unfurl, settings)).toMatchObject({ kind: 'ignored', reason: 'message changed without an edit of its text' });
    const botEdit = withEvent('message-changed', { message: { ...event.message, bot_id: 'B0LIFELINE', user: 'U0LIFELINE' } });
    expect(classifySlackPayload(botEdit, settings).kind).toBe('ignored');
  });

  it('records a deletion with the text that was deleted', () => {
    const m = message(classifySlackPayload(fixture('message-deleted'), settings));
    expect(m).toMatchObject({
      kind: 'deletion',
      channelMessageId: 'D0PNCRP9N:1712345678.123456:deleted',
      threadIds: ['D0PNCRP9N:1712345678.123456'],
      text: '[deleted an earlier message] he has a knife',
    });
    expect(classifySlackPayload(withEvent('message-deleted', { previous_message: undefined }), settings).kind).toBe('ignored');
  });
});

describe('Slack text', () => {
  it.each([
    ['<@U0123|ann> and <@U0456>', '@ann and @U0456'],
    ['in <#C0123|general> and <#C0456>', 'in #general and #C0456'],
    ['<!here> <!channel> <!subteam^S0123|@medics> <!date^1392734382^{date}|Feb 18, 2014>', '@here @channel @medics Feb 18, 2014'],
    ['<https://x.example/a?b=1&amp;c=2> <http://x.example|x.example> <https://y.example|map>', 'https://x.example/a?b=1&c=2 x.example map (https://y.example)'],
    ['<mailto:ann@example.org|ann@example.org>', 'ann@example.org'],
    ['5 &lt; 6 &amp;&amp; 7 &gt; 2', '5 < 6 && 7 > 2'],
    ['&amp;lt; stays as typed', '&lt; stays as typed'],
  ])('reads %j as %j', (markup, text) => {
    expect(slackToPlainText(markup)).toBe(text);
  });

  it('escapes an agent’s text so it cannot mention or link', () => {
    expect(escapeSlackText('<!channel> & <@U1> <https://evil|safe>')).toBe('&lt;!channel&gt; &amp; &lt;@U1&gt; &lt;https://evil|safe&gt;');
    expect(slackToPlainText(escapeSlackText('a < b & c > d'))).toBe('a < b & c > d');
  });

  it('parses a stored channel message id', () => {
    expect(parseChannelMessageId('C0123:1712345678.123456')).toEqual({ channel: 'C0123', ts: '1712345678.123456' });
    expect(parseChannelMessageId('C0123:1712345678.123456:edited:1712345800.000000')).toEqual({ channel: 'C0123', ts: '1712345678.123456' });
    expect(parseChannelMessageId('<abc@example.org>')).toBeUndefined();
  });

  it('notes a file not kept, and fits long text with a marker', () => {
    expect(fileNote({ name: 'video.mp4', mimetype: 'video/mp4', size: 3 * 1024 * 1024 }, 'too large')).toBe('[file video.mp4 (video/mp4, 3.0 MB) not kept: too large]');
    expect(fileNote({ id: 'F1' }, 'deleted')).toBe('[file F1 not kept: deleted]');
    const fitted = fitText('x'.repeat(6000), 5000);
    expect(fitted).toHaveLength(5000 - 40 + '… [1040 more characters not shown]'.length);
    expect(fitted.length).toBeLessThanOrEqual(5000);
    expect(fitted.endsWith('… [1040 more characters not shown]')).toBe(true);
    expect(fitText('short', 5000)).toBe('short');
  });
});
