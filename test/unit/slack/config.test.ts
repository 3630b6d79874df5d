import { describe, expect, it } from 'vitest';
import { parseSlackLink, SLACK_API_URL } from '../../../adapters/slack/config.ts';
import { ValidationError } from '../../../src/errors.ts';

const secrets = { signingSecret: '8f742231b10e8888abcd99yyyzzz85a5', botToken: 'xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy' };

/** The field a ValidationError names, or the error if something else was thrown. */
function fieldOf(input: { settings: unknown; secrets: unknown }): string | undefined {
  try {
    parseSlackLink(input);
  } catch (err) {
    if (err instanceof ValidationError) return err.field;
    throw err;
  }
  return undefined;
}

describe('parseSlackLink', () => {
  it('fills in the defaults: direct messages only, Slack’s own API, 10 MB files', () => {
    const parsed = parseSlackLink({ settings: {}, secrets });
    expect(parsed.settings).toEqual({ channels: [], apiUrl: SLACK_API_URL, maxAttachmentBytes: 10 * 1024 * 1024 });
    expect(parsed.secrets).toEqual(secrets);
  });

  it('keeps team, bot user and watched channels, and ends the API URL with a slash', () => {
    const parsed = parseSlackLink({
      settings: { teamId: 'T0123ABCD', botUserId: 'U0BOT1234', channels: ['C0123ABCD', 'G0PRIVATE'], apiUrl: 'http://127.0.0.1:9999/api' },
      secrets,
    });
    expect(parsed.settings).toMatchObject({ teamId: 'T0123ABCD', botUserId: 'U0BOT1234', channels: ['C0123ABCD', 'G0PRIVATE'], apiUrl: 'http://127.0.0.1:9999/api/' });
  });

  it.each([
    ['teamId', { teamId: 'my-workspace' }, secrets],
    ['botUserId', { botUserId: 'B0BOT' }, secrets],
    ['channels.1', { channels: ['C0123ABCD', '#general'] }, secrets],
    ['channels', { channels: 'C0123ABCD' }, secrets],
    ['apiUrl', { apiUrl: 'ftp://slack.example/api/' }, secrets],
    ['apiUrl', { apiUrl: 'not a url' }, secrets],
    ['maxAttachmentBytes', { maxAttachmentBytes: 12 }, secrets],
    ['signingSecret', {}, { botToken: secrets.botToken }],
    ['signingSecret', {}, { ...secrets, signingSecret: 'short' }],
    ['botToken', {}, { signingSecret: secrets.signingSecret }],
    ['botToken', {}, { ...secrets, botToken: 'xoxp-user-token' }],
  ])('names %s', (field, settings, s) => {
    expect(fieldOf({ settings, secrets: s })).toBe(field);
  });

  it('refuses unknown settings and secrets, naming them in the message', () => {
    expect(() => parseSlackLink({ settings: { appToken: 'xapp-1' }, secrets })).toThrow(/settings: .*appToken/);
    expect(() => parseSlackLink({ settings: {}, secrets: { ...secrets, clientSecret: 'x' } })).toThrow(/secrets: .*clientSecret/);
  });
});
