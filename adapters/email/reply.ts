/**
 * Building the mail that answers a citizen: threading headers so their mail
 * client shows it in the same conversation, a `Re:` subject, and
 * `Auto-Submitted` on system notices so well-behaved responders do not
 * answer a robot. Pure: the result goes to nodemailer's `sendMail`.
 */
import { randomUUID } from 'node:crypto';
import type { SendMailOptions } from 'nodemailer';
import type { IncomingAttachment } from '../../src/store/attachments.ts';
import type { OutboundMessage } from '../../src/channel.ts';

/** What the gateway knows of the citizen's side of the thread. */
export interface EmailThread {
  /** Subject of the citizen's last mail ('' when none). */
  subject: string;
  /** Message-ID of the citizen's last mail, with angle brackets; null when the conversation did not start by e-mail. */
  lastMessageId: string | null;
  /** That mail's References, oldest first. */
  references: string[];
}

/** The sender side of a mailbox link (its SMTP settings). */
export interface ReplySender {
  /** The PSAP's address; its domain names the Message-IDs. */
  from: string;
  fromName: string;
}

/** A mail ready for nodemailer, and the Message-ID it carries (the outbound channel message id). */
export interface BuiltReply {
  messageId: string;
  mail: SendMailOptions;
}

/** Reply prefixes mail clients add (English, German, Nordic, Dutch, French, Spanish), with counters like `Re[2]:`. */
const REPLY_PREFIX = /^\s*(re|aw|sv|antw|réf|rif|ref|res)\s*(\[\d+\]|\(\d+\))?\s*:\s*/i;
/** Thread ids kept in References: the root plus the most recent, so the header stays well under a line limit per id. */
const MAX_REFERENCES = 20;
const MAX_REFERENCES_CHARS = 2000;

/** `Re: <subject>`, with any existing reply prefixes (however many) collapsed into one. */
export function replySubject(subject: string, fallback = 'Your message'): string {
  let rest = subject.replace(/[\r\n]+/g, ' ').trim();
  while (REPLY_PREFIX.test(rest)) rest = rest.replace(REPLY_PREFIX, '');
  return `Re: ${rest.trim() === '' ? fallback : rest.trim()}`;
}

/** A new Message-ID on the PSAP's own domain (the part of `from` after the @). */
export function generateMessageId(from: string): string {
  const domain = from.slice(from.lastIndexOf('@') + 1).trim().toLowerCase() || 'localhost';
  return `<${randomUUID()}@${domain}>`;
}

/**
 * The References for a reply: the citizen's References then the id being
 * answered, duplicates removed. Past the limits the thread's root is kept
 * and the oldest of the rest dropped (RFC 5322 §3.6.4 allows trimming).
 */
export function replyReferences(references: string[], inReplyTo: string | null): string[] {
  const seen = new Set<string>();
  const all = [...references, ...(inReplyTo ? [inReplyTo] : [])].filter((id) => {
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  if (all.length === 0) return all;
  const [root, ...rest] = all as [string, ...string[]];
  const kept = rest.slice(-(MAX_REFERENCES - 1));
  while (kept.length > 0 && [root, ...kept].join(' ').length > MAX_REFERENCES_CHARS) kept.shift();
  return [root, ...kept];
}

/**
 * Builds the mail for an outbound message: `From` the mailbox, `To` the
 * citizen, a fresh Message-ID, `In-Reply-To` the citizen's last Message-ID,
 * `References` their thread plus that id, a `Re:` subject and the text body.
 * Only system notices carry `Auto-Submitted: auto-replied` (RFC 3834): an
 * agent's reply is written by a person and should be answerable normally.
 */
export function buildReply(
  message: Pick<OutboundMessage, 'to' | 'text' | 'kind'>,
  thread: EmailThread,
  sender: ReplySender,
  files: IncomingAttachment[] = [],
): BuiltReply {
  const messageId = generateMessageId(sender.from);
  const references = replyReferences(thread.references, thread.lastMessageId);
  const mail: SendMailOptions = {
    from: { name: sender.fromName, address: sender.from },
    to: message.to,
    // A conversation the centre started (text-from-911) has no mail to answer: it opens a thread of its own.
    subject: thread.lastMessageId === null && thread.subject.trim() === '' ? `Message from ${sender.fromName}` : replySubject(thread.subject),
    text: message.text,
    messageId,
    ...(thread.lastMessageId ? { inReplyTo: thread.lastMessageId } : {}),
    ...(references.length > 0 ? { references } : {}),
    ...(message.kind === 'system' ? { headers: { 'Auto-Submitted': 'auto-replied' } } : {}),
    // Contents only, read from the store by the caller: never a path or URL nodemailer would fetch.
    ...(files.length > 0 ? { attachments: files.map((f) => ({ filename: f.name, contentType: f.contentType, content: f.content })) } : {}),
  };
  return { messageId, mail };
}
