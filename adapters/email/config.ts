/**
 * A mailbox link's settings and secrets, as administrators give them to
 * `POST /api/links`: where to read citizens' mail (IMAP), how to answer
 * (SMTP), and the limits that keep one sender or one message from
 * overwhelming the centre. Passwords are secrets: stored apart and never
 * returned by the API. Errors name the field (`imap.port`, `smtp.from`).
 */
import { z } from 'zod';
import { ValidationError } from '../../src/errors.ts';
import { parse } from '../../src/http/validate.ts';

const MB = 1024 * 1024;

const host = z.string().trim().min(1).max(255);
const port = z.number().int().min(1).max(65535);

/** Where citizens' mail is read: IMAP with IDLE. */
export const imapSettingsSchema = z.strictObject({
  host,
  port,
  /** Implicit TLS (port 993 usually); false means a plain connection (loopback or a trusted network). */
  tls: z.boolean(),
  user: z.string().min(1).max(320),
  /** The folder watched for new mail. */
  folder: z.string().min(1).max(255).default('INBOX'),
  /** Where a message is moved once stored; absent: it is only flagged \Seen in place. */
  processedFolder: z.string().min(1).max(255).optional(),
});

/** How replies to citizens are sent: SMTP submission. */
export const smtpSettingsSchema = z.strictObject({
  host,
  port,
  /** Implicit TLS (port 465 usually); false leaves STARTTLS to the server's offer. */
  tls: z.boolean(),
  /** SMTP login; absent: the relay takes mail without authentication. */
  user: z.string().min(1).max(320).optional(),
  /** The PSAP's address replies come from; its domain also names reply Message-IDs. */
  from: z.email(),
  /** Display name shown to the citizen ("County 911 Text Service"). */
  fromName: z.string().trim().min(1).max(120),
});

/** Settings of one mailbox link, defaults filled in. */
export const emailSettingsSchema = z
  .strictObject({
    imap: imapSettingsSchema,
    smtp: smtpSettingsSchema,
    /** An attachment larger than this is recorded as a note, not kept. */
    maxAttachmentBytes: z.number().int().min(1024).max(100 * MB).default(10 * MB),
    /** A whole message larger than this is not downloaded; its headers are stored with a note. */
    maxMessageBytes: z.number().int().min(1024).max(200 * MB).default(25 * MB),
    /** Messages accepted from one sender in an hour; the rest are recorded without being answered. */
    perSenderPerHour: z.number().int().min(1).max(10_000).default(20),
  })
  .refine((s) => s.maxMessageBytes >= s.maxAttachmentBytes, {
    message: 'must not be less than maxAttachmentBytes',
    path: ['maxMessageBytes'],
  });

/** Secrets of a mailbox link: the IMAP password, and the SMTP one when SMTP logs in. */
export const emailSecretsSchema = z.strictObject({
  imapPassword: z.string().min(1).max(1024),
  smtpPassword: z.string().min(1).max(1024).optional(),
});

/** Validated settings of a mailbox link. */
export type EmailSettings = z.infer<typeof emailSettingsSchema>;
/** Validated secrets of a mailbox link. */
export type EmailSecrets = z.infer<typeof emailSecretsSchema>;

/**
 * Validates a mailbox link's settings and secrets for `LinkRunner.parse`.
 * An SMTP user needs an SMTP password, and the reverse.
 * @throws ValidationError naming the offending field (e.g. `imap.port`, `smtpPassword`).
 */
export function parseEmailLink(input: { settings: unknown; secrets: unknown }): { settings: EmailSettings; secrets: EmailSecrets } {
  const settings = parse(emailSettingsSchema, input.settings, 'settings');
  const secrets = parse(emailSecretsSchema, input.secrets, 'secrets');
  if (settings.smtp.user !== undefined && secrets.smtpPassword === undefined) {
    throw new ValidationError('smtpPassword: required when smtp.user is set', 'smtpPassword');
  }
  if (settings.smtp.user === undefined && secrets.smtpPassword !== undefined) {
    throw new ValidationError('smtp.user: required when smtpPassword is set', 'smtp.user');
  }
  return { settings, secrets };
}
