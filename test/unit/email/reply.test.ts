import { simpleParser } from 'mailparser';
import nodemailer from 'nodemailer';
import { describe, expect, it } from 'vitest';
import { buildReply, generateMessageId, replyReferences, replySubject, type EmailThread } from '../../../adapters/email/reply.ts';

const sender = { from: 'text911@county.example.gov', fromName: 'County 911' };
const thread: EmailThread = {
  subject: 'Re: Car accident on Route 9',
  lastMessageId: '<CAF3x9k2q@mail.example.org>',
  references: ['<CAF3x9k2m@mail.example.org>', '<5e1c-agent-1@county.example.gov>'],
};

/** Renders the mail as nodemailer would put it on the wire, and parses it back. */
async function render(mail: Parameters<ReturnType<typeof nodemailer.createTransport>['sendMail']>[0]) {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  const info = await transport.sendMail(mail);
  const raw = info.message as Buffer;
  return { raw: raw.toString('utf8'), parsed: await simpleParser(raw) };
}

describe('replySubject', () => {
  it.each([
    ['Car accident', 'Re: Car accident'],
    ['Re: Car accident', 'Re: Car accident'],
    ['RE: re: Car accident', 'Re: Car accident'],
    ['Re[2]: Car accident', 'Re: Car accident'],
    ['AW: Unfall', 'Re: Unfall'],
    ['Fwd: photo', 'Re: Fwd: photo'],
    ['', 'Re: Your message'],
    ['Re:', 'Re: Your message'],
    ['line\r\nbreak', 'Re: line break'],
  ])('%j → %j', (subject, expected) => {
    expect(replySubject(subject)).toBe(expected);
  });
});

describe('replyReferences', () => {
  it('appends the answered id to the thread, without duplicates', () => {
    expect(replyReferences(['<a@x>', '<b@x>'], '<c@x>')).toEqual(['<a@x>', '<b@x>', '<c@x>']);
    expect(replyReferences(['<a@x>', '<b@x>'], '<b@x>')).toEqual(['<a@x>', '<b@x>']);
    expect(replyReferences([], null)).toEqual([]);
  });

  it('keeps the root and the newest ids of a long thread', () => {
    const ids = Array.from({ length: 50 }, (_, i) => `<m${i}@example.org>`);
    const refs = replyReferences(ids, '<last@example.org>');
    expect(refs).toHaveLength(20);
    expect(refs[0]).toBe('<m0@example.org>');
    expect(refs.at(-1)).toBe('<last@example.org>');
    expect(refs[1]).toBe('<m32@example.org>');
  });

  it('keeps the header under its length limit with very long ids', () => {
    const ids = Array.from({ length: 19 }, (_, i) => `<${'x'.repeat(200)}${i}@example.org>`);
    const refs = replyReferences(ids, '<last@example.org>');
    expect(refs.join(' ').length).toBeLessThanOrEqual(2000);
    expect(refs[0]).toBe(ids[0]);
    expect(refs.at(-1)).toBe('<last@example.org>');
  });
});

describe('generateMessageId', () => {
  it('makes unique ids on the PSAP domain', () => {
    const a = generateMessageId('Text911@County.Example.gov');
    expect(a).toMatch(/^<[0-9a-f-]{36}@county\.example\.gov>$/);
    expect(generateMessageId('text911@county.example.gov')).not.toBe(a);
  });
});

describe('buildReply', () => {
  it('threads an agent reply and puts the right headers on the wire', async () => {
    const { messageId, mail } = buildReply({ to: 'maria.lopez@example.org', text: 'Help is on the way.', kind: 'reply' }, thread, sender);
    const { raw, parsed } = await render(mail);
    expect(parsed.messageId).toBe(messageId);
    expect(messageId).toMatch(/@county\.example\.gov>$/);
    expect(parsed.subject).toBe('Re: Car accident on Route 9');
    expect(parsed.inReplyTo).toBe('<CAF3x9k2q@mail.example.org>');
    expect(parsed.references).toEqual(['<CAF3x9k2m@mail.example.org>', '<5e1c-agent-1@county.example.gov>', '<CAF3x9k2q@mail.example.org>']);
    expect(parsed.from?.value).toEqual([{ address: 'text911@county.example.gov', name: 'County 911' }]);
    expect(parsed.text?.trim()).toBe('Help is on the way.');
    expect(raw).not.toMatch(/^Auto-Submitted:/im);
  });

  it('marks a system notice Auto-Submitted: auto-replied', async () => {
    const { mail } = buildReply({ to: 'maria.lopez@example.org', text: 'An agent has seen your message.', kind: 'system' }, thread, sender);
    const { raw } = await render(mail);
    expect(raw).toMatch(/^Auto-Submitted: auto-replied\r$/m);
  });

  it('starts a new thread when the citizen never mailed (the centre wrote first)', () => {
    const { mail } = buildReply({ to: 'a@example.org', text: 'Hello', kind: 'reply' }, { subject: '', lastMessageId: null, references: [] }, sender);
    expect(mail.subject).toBe(`Message from ${sender.fromName}`);
    expect(mail.inReplyTo).toBeUndefined();
    expect(mail.references).toBeUndefined();
  });

  it('attaches the given contents', async () => {
    const { mail } = buildReply({ to: 'a@example.org', text: 'Map attached', kind: 'reply' }, thread, sender, [
      { name: 'map.txt', contentType: 'text/plain', content: Buffer.from('north') },
    ]);
    const { parsed } = await render(mail);
    expect(parsed.attachments.map((a) => [a.filename, a.content.toString()])).toEqual([['map.txt', 'north']]);
  });
});
