/**
 * The e-mail test peers work: a private Dovecot takes an APPEND and serves it
 * back over IMAP (also after a restart on the same port), and the SMTP sink
 * receives what nodemailer sends.
 */
import { readFile } from 'node:fs/promises';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type Dovecot } from '../../support/dovecot.ts';
import { startSmtpSink, type SmtpSink } from '../../support/smtp-sink.ts';

describe('Dovecot test peer', () => {
  let dovecot: Dovecot;
  beforeAll(async () => {
    dovecot = await startDovecot();
  });
  afterAll(async () => {
    await dovecot?.stop();
  });

  it('serves back an appended mail, and keeps it across a restart on the same port', async () => {
    const raw = await readFile(new URL('../../fixtures/email/plain.eml', import.meta.url));
    const uid = await dovecot.appendMail(raw);
    expect(uid).toBeGreaterThan(0);

    const port = dovecot.port;
    await dovecot.restart();
    expect(dovecot.port).toBe(port);

    const client = await dovecot.connect();
    try {
      const lock = await client.getMailboxLock('INBOX');
      try {
        const message = await client.fetchOne(String(uid), { source: true, envelope: true }, { uid: true });
        expect(message && message.envelope?.messageId).toBe('<CAF3x9k2m@mail.example.org>');
        expect(message && message.source?.toString('latin1')).toContain('One driver is not moving');
      } finally {
        lock.release();
      }
    } finally {
      await client.logout();
    }
  });
});

describe('SMTP sink test peer', () => {
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterAll(async () => {
    await sink?.stop();
  });

  it('receives a mail sent by nodemailer, parsed', async () => {
    const transport = nodemailer.createTransport({ host: sink.host, port: sink.port, secure: false, ignoreTLS: true });
    await transport.sendMail({
      from: { name: 'County 911', address: 'psap@test.local' },
      to: 'maria.lopez@example.org',
      subject: 'Re: Car accident',
      text: 'Help is on the way.',
      inReplyTo: '<CAF3x9k2m@mail.example.org>',
    });
    transport.close();
    const mail = await sink.waitForMail((m) => m.rcptTo.includes('maria.lopez@example.org'));
    expect(mail.mailFrom).toBe('psap@test.local');
    expect(mail.parsed.subject).toBe('Re: Car accident');
    expect(mail.parsed.text?.trim()).toBe('Help is on the way.');
    expect(mail.parsed.inReplyTo).toBe('<CAF3x9k2m@mail.example.org>');
  });
});
