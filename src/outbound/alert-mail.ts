/**
 * Alert e-mails to supervisors (escalations) over SMTP with nodemailer. No
 * SMTP configured: no mailer, and callers log that the e-mail was skipped.
 */
import nodemailer from 'nodemailer';

export interface AlertMail {
  to: string;
  subject: string;
  text: string;
}

export interface AlertMailer {
  send(mail: AlertMail): Promise<{ messageId: string }>;
  close(): void;
}

/** A mailer for `smtpUrl` (smtp://user:pass@host:port, smtps://...), or undefined without one. */
export function createAlertMailer(o: { smtpUrl?: string; from: string }): AlertMailer | undefined {
  if (!o.smtpUrl) return undefined;
  const url = new URL(o.smtpUrl);
  const transport = nodemailer.createTransport({
    host: url.hostname,
    port: Number(url.port) || (url.protocol === 'smtps:' ? 465 : 25),
    secure: url.protocol === 'smtps:',
    // A plain smtp:// URL means no TLS (a relay on the local network); smtps:// is TLS throughout.
    ignoreTLS: url.protocol === 'smtp:' && url.searchParams.get('starttls') !== 'true',
    ...(url.username ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } } : {}),
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
  });
  return {
    async send(mail) {
      const info = await transport.sendMail({ from: o.from, to: mail.to, subject: mail.subject, text: mail.text });
      return { messageId: info.messageId };
    },
    close: () => transport.close(),
  };
}
