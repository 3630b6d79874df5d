import { describe, expect, it } from 'vitest';
import { parseEmailLink } from '../../../adapters/email/config.ts';
import { ValidationError } from '../../../src/errors.ts';

const settings = {
  imap: { host: 'imap.example.org', port: 993, tls: true, user: 'psap@example.org' },
  smtp: { host: 'smtp.example.org', port: 465, tls: true, user: 'psap@example.org', from: 'text911@example.org', fromName: 'County 911' },
};
const secrets = { imapPassword: 'imap-secret', smtpPassword: 'smtp-secret' };

/** The field a ValidationError names, or the error if something else was thrown. */
function fieldOf(input: { settings: unknown; secrets: unknown }): string | undefined {
  try {
    parseEmailLink(input);
  } catch (err) {
    if (err instanceof ValidationError) return err.field;
    throw err;
  }
  return undefined;
}

describe('parseEmailLink', () => {
  it('fills in the defaults', () => {
    const parsed = parseEmailLink({ settings, secrets });
    expect(parsed.settings.imap.folder).toBe('INBOX');
    expect(parsed.settings.imap.processedFolder).toBeUndefined();
    expect(parsed.settings.maxAttachmentBytes).toBe(10 * 1024 * 1024);
    expect(parsed.settings.maxMessageBytes).toBe(25 * 1024 * 1024);
    expect(parsed.settings.perSenderPerHour).toBe(20);
    expect(parsed.secrets).toEqual(secrets);
  });

  it('keeps a processed folder and an SMTP relay without login', () => {
    const parsed = parseEmailLink({
      settings: { ...settings, imap: { ...settings.imap, folder: '911', processedFolder: 'Lifeline/Done' }, smtp: { ...settings.smtp, user: undefined } },
      secrets: { imapPassword: 'x' },
    });
    expect(parsed.settings.imap.folder).toBe('911');
    expect(parsed.settings.imap.processedFolder).toBe('Lifeline/Done');
    expect(parsed.settings.smtp.user).toBeUndefined();
  });

  it.each([
    ['imap.port', { ...settings, imap: { ...settings.imap, port: 70000 } }, secrets],
    ['imap.host', { ...settings, imap: { ...settings.imap, host: ' ' } }, secrets],
    ['imap.tls', { ...settings, imap: { ...settings.imap, tls: 'yes' } }, secrets],
    ['imap.user', { ...settings, imap: { ...settings.imap, user: undefined } }, secrets],
    ['smtp.from', { ...settings, smtp: { ...settings.smtp, from: 'not an address' } }, secrets],
    ['smtp.fromName', { ...settings, smtp: { ...settings.smtp, fromName: '' } }, secrets],
    ['maxAttachmentBytes', { ...settings, maxAttachmentBytes: -1 }, secrets],
    ['maxMessageBytes', { ...settings, maxAttachmentBytes: 5_000_000, maxMessageBytes: 4_000_000 }, secrets],
    ['perSenderPerHour', { ...settings, perSenderPerHour: 0 }, secrets],
    ['imap', { ...settings, imap: { ...settings.imap, extra: 1 } }, secrets],
    ['smtp', { imap: settings.imap }, secrets],
    ['imapPassword', settings, { smtpPassword: 'x' }],
    ['smtpPassword', settings, { imapPassword: 'x' }],
    ['smtp.user', { ...settings, smtp: { ...settings.smtp, user: undefined } }, secrets],
  ])('names %s when it is wrong', (field, badSettings, badSecrets) => {
    expect(fieldOf({ settings: badSettings, secrets: badSecrets })).toBe(field);
  });

  it('puts the field in the message', () => {
    expect(() => parseEmailLink({ settings: { ...settings, imap: { ...settings.imap, port: 0 } }, secrets })).toThrow(/^imap\.port: /);
  });
});

it('names an unknown key in the message (zod reports it on the parent object)', () => {
  expect(() => parseEmailLink({ settings: { ...settings, imap: { ...settings.imap, pasword: 'x' } }, secrets })).toThrow(/^imap: .*pasword/);
});
