/**
 * From a raw RFC 822 message to what the gateway stores: sender, threading
 * ids, the citizen's new words and the full text, attachments within limits,
 * and whether a machine sent it. No I/O; never throws on bad mail: a message
 * that cannot be read still reaches an agent, with an error saying why.
 */
import { createHash } from 'node:crypto';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import type { InboundMessage } from '../../src/channel.ts';
import type { IncomingAttachment } from '../../src/store/attachments.ts';
import type { Attachment } from '../../src/store/schema.ts';
import { classifyAutomatic, type AutomaticKind } from './automatic.ts';
import { foldQuotedHistory } from './quote.ts';

/** Limits applied while normalising (from the mailbox's settings). */
export interface NormaliseOptions {
  /** An attachment larger than this becomes a note instead. */
  maxAttachmentBytes: number;
  /** When the gateway took the message (the IMAP INTERNALDATE, or now). */
  receivedAt: Date;
}

/** One citizen e-mail, normalised. */
export interface NormalisedEmail {
  /** The sender's address, lower-cased; '' when the mail names none. */
  from: string;
  fromName?: string;
  /** Where replies go when the sender asked for another address (Reply-To). */
  replyTo?: string;
  subject: string;
  /** The Message-ID with its angle brackets, or a stable one made from a hash of the raw bytes. */
  channelMessageId: string;
  /** True when the mail had no usable Message-ID and `channelMessageId` was made up. */
  synthesizedId: boolean;
  /** The Message-ID this mail answers, with angle brackets. */
  inReplyTo: string | null;
  /** The thread's Message-IDs, oldest first, with angle brackets. */
  references: string[];
  /** What the agent sees first: the new part, quoted history folded away. */
  text: string;
  /** The whole plain-text body (HTML converted), history included. */
  fullText: string;
  /** Attachments within the size limit, content included (stored apart from the message). */
  attachments: IncomingAttachment[];
  /** Attachments that were not kept, one sentence each. */
  notes: string[];
  /** A machine's mail: recorded, never answered. */
  automatic: AutomaticKind;
  /** The Date header, when it parses. */
  sentAt: Date | null;
  receivedAt: Date;
  /** Why the message could not be fully read (malformed MIME), or null. */
  error: string | null;
}

const MB = 1024 * 1024;
/** Longer ids are hashed: a channel message id is an index key, not a store for junk. */
const MAX_ID_LENGTH = 250;
/** A raw body shown instead of an unreadable structure is cut here. */
const MAX_RAW_FALLBACK = 100_000;

function hashId(bytes: Buffer | string): string {
  return `<${createHash('sha256').update(bytes).digest('hex').slice(0, 40)}@lifeline.invalid>`;
}

/** `<id@host>` from whatever form the header took; null for an empty one. */
function bracketId(value: string): string | null {
  const bare = value.trim().replace(/^<+|>+$/g, '').trim();
  if (bare === '' || /[\s<>\u0000-\u001f\u007f]/.test(bare)) return null;
  const id = `<${bare}>`;
  return id.length > MAX_ID_LENGTH ? hashId(id) : id;
}

function idList(value: string | string[] | undefined): string[] {
  const raw = Array.isArray(value) ? value.join(' ') : (value ?? '');
  return (raw.match(/<[^<>\s]+>/g) ?? []).map((id) => bracketId(id)).filter((id): id is string => id !== null);
}

function firstAddress(value: AddressObject | AddressObject[] | undefined): { address: string; name?: string } | undefined {
  const objects = Array.isArray(value) ? value : value ? [value] : [];
  for (const object of objects) {
    for (const entry of object.value) {
      const found = entry.address ? entry : entry.group?.find((member) => member.address);
      if (found?.address) return { address: found.address.toLowerCase(), ...(found.name ? { name: found.name } : {}) };
    }
  }
  return undefined;
}

function headerText(mail: ParsedMail, name: string): string | undefined {
  const value = mail.headers.get(name);
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.join(', ');
  if ('text' in value) return value.text;
  if ('value' in value && typeof value.value === 'string') return value.value;
  return '';
}

function contentTypeOf(mail: ParsedMail): { value: string; params: Record<string, string> } {
  const value = mail.headers.get('content-type');
  if (value && typeof value === 'object' && 'params' in value && typeof value.value === 'string') {
    return { value: value.value.toLowerCase(), params: value.params };
  }
  return { value: 'text/plain', params: {} };
}

/** The Return-Path address: '' for `<>`, undefined when the header is absent. */
function returnPathOf(mail: ParsedMail): string | undefined {
  const line = mail.headerLines.find((h) => h.key === 'return-path');
  if (!line) return undefined;
  const value = line.line.slice(line.line.indexOf(':') + 1).trim();
  return value.replace(/^<|>$/g, '').trim().toLowerCase();
}

/** A file name safe to show and to save: no directories, no control characters. */
function safeName(name: string | undefined, index: number, contentType: string): string {
  const base = (name ?? '').replace(/[\u0000-\u001f\u007f]/g, '').split(/[\\/]/).pop()?.trim() ?? '';
  if (base !== '') return base.slice(0, 200);
  const ext = contentType.split('/')[1]?.replace(/[^a-z0-9.+-]/gi, '') ?? 'bin';
  return `attachment-${index + 1}.${ext}`;
}

/** Formats a size for a note: "12.5 MB", or kB below one megabyte. */
export function formatSize(bytes: number): string {
  return bytes >= MB ? `${(bytes / MB).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} kB`;
}

function keepAttachments(mail: ParsedMail, maxBytes: number): { attachments: IncomingAttachment[]; notes: string[] } {
  const attachments: IncomingAttachment[] = [];
  const notes: string[] = [];
  mail.attachments.forEach((part, index) => {
    const contentType = (part.contentType || 'application/octet-stream').toLowerCase();
    const name = safeName(part.filename, index, contentType);
    const size = part.content.length;
    if (size > maxBytes) {
      notes.push(`attachment ${name} (${formatSize(size)}) not kept: over the limit of ${formatSize(maxBytes)}`);
      return;
    }
    attachments.push({ name, contentType, content: part.content });
  });
  return { attachments, notes };
}

/** The header block and body of a raw message, split at the first empty line. */
function splitRaw(raw: Buffer): { head: string; body: string } {
  const text = raw.toString('latin1');
  const match = /\r?\n\r?\n/.exec(text);
  if (!match) return { head: text, body: '' };
  // latin1 maps byte to char one to one, so the index is a byte offset.
  const body = raw.subarray(match.index + match[0].length).toString('utf8');
  return { head: text.slice(0, match.index), body: body.replace(/\r\n?/g, '\n') };
}

/**
 * Finds what makes a message unreadable even though the parser returned:
 * a multipart type without a boundary, or whose boundary never appears.
 */
function structureError(mail: ParsedMail, raw: Buffer): string | null {
  const type = contentTypeOf(mail);
  if (!type.value.startsWith('multipart/')) return null;
  const boundary = type.params.boundary;
  if (!boundary) return `malformed MIME: ${type.value} without a boundary`;
  if (!raw.includes(`--${boundary}`)) return `malformed MIME: the ${type.value} boundary "${boundary}" never appears in the body`;
  return null;
}

function plainText(mail: ParsedMail): string {
  // mailparser's text is the text/plain part when there is one, else its conversion of the HTML
  // (scripts and styles dropped, entities decoded). Angle brackets a citizen typed in plain text are
  // their words: the console escapes on display rather than this code guessing at tags.
  return (mail.text ?? '').replace(/\r\n?/g, '\n').replace(/\u00a0/g, ' ').trim();
}

/** Text PostgreSQL will take: NUL characters (which a text column refuses) removed. */
function storable(text: string): string {
  return text.includes('\u0000') ? text.replace(/\u0000/g, '') : text;
}

/**
 * Normalises one raw message. Never rejects: a parser failure or a broken
 * MIME structure yields `error` set and the raw body as the text, so the
 * citizen's words still reach an agent.
 */
export async function normaliseEmail(raw: Buffer, options: NormaliseOptions): Promise<NormalisedEmail> {
  let mail: ParsedMail;
  try {
    mail = await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true });
  } catch (err) {
    const { body } = splitRaw(raw);
    const text = storable(body.slice(0, MAX_RAW_FALLBACK).trim());
    return {
      from: '', subject: '', channelMessageId: hashId(raw), synthesizedId: true, inReplyTo: null, references: [],
      text, fullText: text, attachments: [], notes: [], automatic: null, sentAt: null, receivedAt: options.receivedAt,
      error: `unreadable e-mail: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  const sender = firstAddress(mail.from) ?? firstAddress(mail.headers.get('sender') as AddressObject | undefined);
  const replyTo = firstAddress(mail.replyTo);
  const messageId = mail.messageId ? bracketId(mail.messageId) : null;
  const type = contentTypeOf(mail);
  let error = structureError(mail, raw);
  let fullText = plainText(mail);
  if (error !== null && fullText === '') fullText = splitRaw(raw).body.slice(0, MAX_RAW_FALLBACK).trim();
  if (error === null && fullText === '' && mail.attachments.length === 0 && splitRaw(raw).body.trim() !== '') {
    error = 'malformed MIME: no readable text part';
    fullText = splitRaw(raw).body.slice(0, MAX_RAW_FALLBACK).trim();
  }
  fullText = storable(fullText);
  const { text } = foldQuotedHistory(fullText);
  const { attachments, notes } = keepAttachments(mail, options.maxAttachmentBytes);
  const from = storable(sender?.address ?? '');
  return {
    from,
    ...(sender?.name ? { fromName: storable(sender.name) } : {}),
    ...(replyTo && replyTo.address !== from ? { replyTo: storable(replyTo.address) } : {}),
    subject: storable((mail.subject ?? '').trim()),
    channelMessageId: messageId ?? hashId(raw),
    synthesizedId: messageId === null,
    inReplyTo: idList(mail.inReplyTo)[0] ?? null,
    references: idList(mail.references),
    text,
    fullText,
    attachments,
    notes,
    automatic: classifyAutomatic({
      header: (name) => headerText(mail, name),
      from,
      returnPath: returnPathOf(mail),
      contentType: type.value,
      reportType: type.params['report-type']?.toLowerCase(),
    }),
    sentAt: mail.date && !Number.isNaN(mail.date.getTime()) ? mail.date : null,
    receivedAt: options.receivedAt,
    error,
  };
}

/**
 * The body an agent reads, as stored: subject, the new part, notes about
 * attachments not kept, and the reading error when there was one. The full
 * text is kept separately by the caller.
 */
export function agentBody(email: NormalisedEmail): string {
  const parts = [email.subject ? `Subject: ${email.subject}` : '', email.text, ...email.notes.map((n) => `[${n}]`)];
  if (email.error) parts.push(`[${email.error}]`);
  return parts.filter((p) => p !== '').join('\n\n');
}

/**
 * Cuts a body to `maxChars` with a closing note, so a long mail is stored
 * (and its full text kept beside it) instead of being refused by ingest.
 */
export function fitBody(body: string, maxChars: number): string {
  if (body.length <= maxChars) return body;
  const note = (rest: number) => `\n\n[… ${rest} more characters not shown; the whole mail is kept with it]`;
  const keep = Math.max(0, maxChars - note(body.length).length);
  return body.slice(0, keep) + note(body.length - keep);
}

/**
 * The core's InboundMessage for a normalised e-mail on a mailbox link, with
 * its attachments already stored (`putAttachments`). The mail's In-Reply-To
 * and References thread it into the conversation they name.
 */
export function toInboundMessage(email: NormalisedEmail, channelLinkId: string, attachments: Attachment[], maxChars: number): InboundMessage {
  const threadIds = [...new Set([...(email.inReplyTo ? [email.inReplyTo] : []), ...email.references])].slice(0, 50);
  return {
    channel: 'email',
    channelLinkId,
    from: email.from,
    ...(email.fromName ? { fromName: email.fromName } : {}),
    channelMessageId: email.channelMessageId,
    text: fitBody(agentBody(email), maxChars),
    attachments,
    receivedAt: email.receivedAt,
    ...(threadIds.length > 0 ? { threadIds } : {}),
  };
}
