import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { agentBody, normaliseEmail, toInboundMessage } from '../../../adapters/email/normalise.ts';

const MB = 1024 * 1024;
const receivedAt = new Date('2024-06-04T14:15:03Z');
const options = { maxAttachmentBytes: 10 * MB, receivedAt };
const fixture = (name: string) => readFileSync(new URL(`../../fixtures/email/${name}`, import.meta.url));
const normalise = (name: string) => normaliseEmail(fixture(name), options);
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==', 'base64');

describe('normaliseEmail on recorded mails', () => {
  it('reads a plain-text mail: sender, subject, id, decoded quoted-printable', async () => {
    const email = await normalise('plain.eml');
    expect(email).toMatchObject({
      from: 'maria.lopez@example.org',
      fromName: 'Maria Lopez',
      subject: 'Car accident on Route 9 near exit 12',
      channelMessageId: '<CAF3x9k2m@mail.example.org>',
      synthesizedId: false,
      inReplyTo: null,
      references: [],
      automatic: null,
      error: null,
      attachments: [],
      notes: [],
      receivedAt,
    });
    expect(email.text).toBe(
      "I can't talk right now. Two cars crashed on Route 9 northbound near exit 12. One driver is not moving. " +
        'I am in the blue car on the shoulder – please send help.\n\nMaria',
    );
    expect(email.fullText).toBe(email.text);
    expect(email.sentAt?.toISOString()).toBe('2024-06-04T14:15:00.000Z');
  });

  it('turns HTML into safe text: no script, no style, no tags, entities decoded', async () => {
    const email = await normalise('html-only.eml');
    expect(email.text).toBe('Smoke on the 3rd floor at Smith & Sons, 12 <Elm> St — café next door.\n\nPlease hurry.');
    expect(email.fullText).not.toMatch(/script|document\.cookie|color: red|onclick|<p|<b>/);
  });

  it('folds quoted history and keeps the full text and the thread ids', async () => {
    const email = await normalise('reply-quoted.eml');
    expect(email.text).toBe('Yes, the driver is breathing now. There is fuel leaking.');
    expect(email.fullText).toContain('> This is County 911. Is the driver breathing?');
    expect(email.fullText.startsWith(email.text)).toBe(true);
    expect(email.inReplyTo).toBe('<5e1c-agent-1@test.local>');
    expect(email.references).toEqual(['<CAF3x9k2m@mail.example.org>', '<5e1c-agent-1@test.local>']);
  });

  it('keeps a photo inline as base64 the console can show', async () => {
    const email = await normalise('photo.eml');
    expect(email.text).toBe('Here is what I see from my window.');
    expect(email.attachments).toEqual([{ name: 'fire.png', contentType: 'image/png', content: PNG }]);
    expect(email.notes).toEqual([]);
  });

  it('flags a delivery report as a bounce', async () => {
    const email = await normalise('bounce.eml');
    expect(email.automatic).toBe('bounce');
    expect(email.from).toBe('mailer-daemon@mx.example.org');
    expect(email.text).toContain('550 5.1.1 User unknown');
  });

  it('flags an out-of-office answer as an auto-reply', async () => {
    const email = await normalise('auto-reply.eml');
    expect(email.automatic).toBe('auto-reply');
    expect(email.inReplyTo).toBe('<5e1c-agent-2@test.local>');
    expect(email.text).toBe('I am out of the office until June 10 with limited access to e-mail.');
  });

  it('stores a clear error and the raw body for a broken MIME structure, without throwing', async () => {
    const email = await normalise('malformed.eml');
    expect(email.error).toBe('malformed MIME: the multipart/mixed boundary "=_declared_boundary" never appears in the body');
    expect(email.text).toContain('Someone broke into the house at 40 Oak Road, I am hiding upstairs.');
    expect(email.from).toBe('lee@example.org');
    expect(email.channelMessageId).toBe('<broken-1@example.org>');
    expect(agentBody(email)).toMatch(/\n\n\[malformed MIME: the multipart\/mixed boundary "=_declared_boundary" never appears in the body\]$/);
  });

  it('decodes ISO-8859-1 headers and body', async () => {
    const email = await normalise('latin1.eml');
    expect(email.fromName).toBe('Renée Bélanger');
    expect(email.subject).toBe("Accident près de l'école");
    expect(email.text).toBe("Un cycliste est blessé près de l'école, rue de la Faïencerie. Il ne répond plus.");
  });
});

describe('normaliseEmail on generated mails', () => {
  const mail = (headers: string, body: string) => Buffer.from(`${headers.trim().replace(/\n/g, '\r\n')}\r\n\r\n${body}`);

  it('notes an attachment over the limit instead of dropping it silently', async () => {
    const big = Buffer.alloc(12 * MB, 0x41).toString('base64').replace(/.{76}/g, '$&\r\n');
    const raw = mail(
      'From: ann@example.org\nSubject: scans\nMessage-ID: <big@example.org>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b1"',
      `--b1\r\nContent-Type: text/plain\r\n\r\nSee the scans.\r\n--b1\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename="small.png"\r\nContent-Transfer-Encoding: base64\r\n\r\n${PNG.toString('base64')}\r\n` +
        `--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="../../etc/scan.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n${big}\r\n--b1--\r\n`,
    );
    const email = await normaliseEmail(raw, options);
    expect(email.attachments.map((a) => a.name)).toEqual(['small.png']);
    expect(email.notes).toEqual(['attachment scan.pdf (12.0 MB) not kept: over the limit of 10.0 MB']);
    expect(agentBody(email)).toBe('Subject: scans\n\nSee the scans.\n\n[attachment scan.pdf (12.0 MB) not kept: over the limit of 10.0 MB]');
  });

  it('makes a stable Message-ID from the raw bytes when the mail has none', async () => {
    const raw = mail('From: ann@example.org\nSubject: no id', 'Help');
    const first = await normaliseEmail(raw, options);
    const again = await normaliseEmail(Buffer.from(raw), options);
    const other = await normaliseEmail(mail('From: ann@example.org\nSubject: no id', 'Help!'), options);
    expect(first.synthesizedId).toBe(true);
    expect(first.channelMessageId).toMatch(/^<[0-9a-f]{40}@lifeline\.invalid>$/);
    expect(again.channelMessageId).toBe(first.channelMessageId);
    expect(other.channelMessageId).not.toBe(first.channelMessageId);
  });

  it('adds angle brackets to a bare Message-ID and takes the Reply-To address', async () => {
    const email = await normaliseEmail(mail('From: Ann <ann@example.org>\nReply-To: ann.home@example.net\nMessage-ID: bare-id@example.org', 'Hi'), options);
    expect(email.channelMessageId).toBe('<bare-id@example.org>');
    expect(email.replyTo).toBe('ann.home@example.net');
  });

  it('never throws on bytes that are not a mail', async () => {
    const email = await normaliseEmail(Buffer.from([0x00, 0xff, 0xfe, 0x0a, 0x0a, 0x68, 0x69]), options);
    expect(email.from).toBe('');
    expect(email.synthesizedId).toBe(true);
    expect(email.text).toBe('hi');
  });
});

describe('toInboundMessage', () => {
  it('builds the core message with the subject, the new part and the attachments', async () => {
    const email = await normalise('photo.eml');
    const stored = [{ name: 'fire.png', contentType: 'image/png', size: 68, sha256: 'ab'.repeat(32) }];
    expect(toInboundMessage(email, 'link-1', stored, 5000)).toEqual({
      channel: 'email',
      channelLinkId: 'link-1',
      from: 'sam@example.com',
      fromName: 'Sam Patel',
      channelMessageId: '<photo-1@example.com>',
      text: 'Subject: Photo of the fire\n\nHere is what I see from my window.',
      attachments: stored,
      receivedAt,
    });
  });

  it('threads by In-Reply-To and References, and cuts a body over the limit with a note', async () => {
    const email = await normaliseEmail(
      Buffer.from(
        [
          'From: a@example.org',
          'Subject: long',
          'Message-ID: <m3@example.org>',
          'In-Reply-To: <r2@psap.test>',
          'References: <m1@example.org> <r2@psap.test>',
          '',
          'x'.repeat(6000),
          '',
        ].join('\r\n'),
      ),
      { maxAttachmentBytes: 1024, receivedAt },
    );
    const inbound = toInboundMessage(email, 'link-1', [], 5000);
    expect(inbound.threadIds).toEqual(['<r2@psap.test>', '<m1@example.org>']);
    expect(inbound.text.length).toBe(5000);
    expect(inbound.text).toMatch(/\[… \d+ more characters not shown; the whole mail is kept with it\]$/);
    expect(inbound.text.startsWith('Subject: long\n\nxxx')).toBe(true);
  });

  it('removes NUL characters, which the store refuses', async () => {
    const email = await normaliseEmail(Buffer.from('From: a@example.org\r\nSubject: a\u0000b\r\n\r\nhel\u0000lo\r\n'), {
      maxAttachmentBytes: 1024,
      receivedAt,
    });
    expect(email.subject).toBe('ab');
    expect(email.text).toBe('hello');
  });
});
