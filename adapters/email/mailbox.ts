/**
 * One mailbox link: an IMAP connection (imapflow) to the link's folder that
 * reads every message newer than the last stored UID, hands each to ingest,
 * flags it \Seen only after ingest committed, then advances the stored UID.
 * Then it waits in IDLE and reads again on every `exists`. A lost connection
 * is reopened with exponential backoff and jitter; whatever arrived meanwhile
 * is read on reconnect (backfill). A changed UIDVALIDITY re-reads the folder
 * from the start; ingest drops what it already has by Message-ID.
 *
 * Nothing is skipped silently: a mail over the size limit is stored with its
 * headers, its text and a note of what stayed in the mailbox; one that keeps
 * failing is stored as a note naming its UID; a sender over the hourly limit
 * is stored and marked so no automatic notice answers them.
 */
import { sql } from 'drizzle-orm';
import { ImapFlow, type MessageStructureObject } from 'imapflow';
import type { LinkStatus } from '../../src/channel.ts';
import type { Logger } from '../../src/log.ts';
import { putAttachments } from '../../src/store/attachments.ts';
import { countRecentFromSender, getMailboxState, recordEmailInbound, saveMailboxState } from '../../src/store/mailbox-state.ts';
import type { AdapterDeps } from '../types.ts';
import type { EmailSecrets, EmailSettings } from './config.ts';
import { fitBody, formatSize, normaliseEmail, toInboundMessage, type NormalisedEmail } from './normalise.ts';
import { foldQuotedHistory } from './quote.ts';

export interface MailboxOptions {
  linkId: string;
  name: string;
  settings: EmailSettings;
  secrets: EmailSecrets;
  deps: AdapterDeps;
  /** First reconnect delay (default 500 ms) and its cap (default 30 s). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

const COUNTERS = ['messagesIn', 'duplicates', 'automatic', 'rateLimited', 'oversized', 'unreadable', 'messagesOut', 'sendFailures', 'reconnects', 'syncs'] as const;
/** Tries at one mail before it is recorded as unreadable (each after a reconnect with backoff). */
const MAX_ATTEMPTS = 3;
/** The largest text part read from a mail over the size limit. */
const TEXT_PART_LIMIT = 1024 * 1024;
/** IDLE is broken and restarted this often, so a dead connection shows within SOCKET_TIMEOUT_MS. */
const IDLE_RENEW_MS = 60_000;
const SOCKET_TIMEOUT_MS = 150_000;
/** The sender of a mail that names none. */
const UNKNOWN_SENDER = 'unknown-sender@invalid';

export class Mailbox {
  readonly counters: Record<string, number> = Object.fromEntries(COUNTERS.map((c) => [c, 0]));
  private readonly log: Logger;
  private state: LinkStatus['state'] = 'starting';
  private since = new Date();
  private lastError: string | null = null;
  private lastSync: Date | null = null;
  private client: ImapFlow | undefined;
  private stopped = false;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  /**
   * The sync chain of the current connection: one at a time per connection, a
   * request during it runs it once more. A new connection starts its own
   * chain even while an old one is still winding down (it may be stuck on
   * the connection that died), so a reconnect always reads the folder.
   */
  private syncing: { client: ImapFlow; done: Promise<void>; again: boolean } | undefined;
  /** Failed attempts per mail (`uidValidity:uid`), for the unreadable-mail fallback. */
  private readonly failures = new Map<string, number>();

  constructor(private readonly options: MailboxOptions) {
    this.log = options.deps.log.child({ component: 'email', linkId: options.linkId });
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    await Promise.race([this.syncing?.done.catch(() => undefined), new Promise((r) => setTimeout(r, 3000).unref())]);
    if (client) {
      try {
        await Promise.race([client.logout(), new Promise((r) => setTimeout(r, 2000).unref())]);
      } catch {
        /* closing anyway */
      }
      client.close();
    }
    this.setState('stopped', null);
  }

  status(): LinkStatus {
    const imap = this.options.settings.imap;
    return {
      state: this.state,
      since: this.since.toISOString(),
      lastError: this.lastError,
      counters: { ...this.counters },
      detail: { server: `${imap.host}:${imap.port}`, folder: imap.folder, user: imap.user, lastSync: this.lastSync?.toISOString() ?? null },
    };
  }

  private setState(state: LinkStatus['state'], error: string | null): void {
    if (state !== this.state) this.since = new Date();
    this.state = state;
    this.lastError = error;
  }

  private connect(): void {
    if (this.stopped) return;
    this.setState('connecting', this.lastError);
    void this.open().catch((err: unknown) => this.failed(err));
  }

  private async open(): Promise<void> {
    const { imap } = this.options.settings;
    const client = new ImapFlow({
      host: imap.host,
      port: imap.port,
      secure: imap.tls,
      ...(imap.tls ? {} : { doSTARTTLS: false }),
      auth: { user: imap.user, pass: this.options.secrets.imapPassword },
      // A server that goes silent (network cut, hung process) is noticed: IDLE is renewed every
      // minute, and a connection quiet for longer than the socket timeout is dropped and reopened.
      maxIdleTime: IDLE_RENEW_MS,
      socketTimeout: SOCKET_TIMEOUT_MS,
      connectionTimeout: 15_000,
      greetingTimeout: 15_000,
      logger: false,
    });
    this.client = client;
    let closed = false;
    client.on('error', (err: Error) => {
      this.log.warn({ err }, 'IMAP error');
      this.lastError = err.message;
    });
    client.on('close', () => {
      if (closed) return;
      closed = true;
      if (this.client === client) this.client = undefined;
      if (!this.stopped) this.failed(new Error(this.lastError ?? 'IMAP connection closed'));
    });
    client.on('exists', () => this.requestSync(client));
    await client.connect();
    if (this.stopped || this.client !== client) {
      client.close();
      return;
    }
    await client.mailboxOpen(imap.folder);
    this.attempt = 0;
    this.setState('up', null);
    this.log.info({ folder: imap.folder }, 'mailbox open');
    this.requestSync(client);
    await this.syncing?.done;
  }

  private failed(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        client.close();
      } catch {
        /* already closed */
      }
    }
    if (this.stopped) return;
    if (this.timer) return; // a reconnect is already scheduled
    this.setState('down', message);
    this.counters.reconnects = (this.counters.reconnects ?? 0) + 1;
    const min = this.options.reconnectMinMs ?? 500;
    const max = this.options.reconnectMaxMs ?? 30_000;
    const base = Math.min(max, min * 2 ** Math.min(this.attempt, 16));
    const delay = Math.round(base / 2 + Math.random() * (base / 2));
    this.attempt += 1;
    this.log.warn({ err: message, delay }, 'mailbox down; reconnecting');
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.connect();
    }, delay);
    this.timer.unref();
  }

  /** Runs a sync now, or once more after the one under way on the same connection. */
  private requestSync(client: ImapFlow): void {
    if (this.syncing && this.syncing.client === client) {
      this.syncing.again = true;
      return;
    }
    const chain: { client: ImapFlow; done: Promise<void>; again: boolean } = { client, done: Promise.resolve(), again: false };
    this.syncing = chain;
    chain.done = (async () => {
      try {
        do {
          chain.again = false;
          await this.sync(client);
        } while (chain.again && !this.stopped && this.client === client);
      } catch (err) {
        this.log.warn({ err }, 'mailbox sync failed');
        if (this.client === client) this.failed(err);
      } finally {
        if (this.syncing === chain) this.syncing = undefined;
      }
      // Wait in IDLE at once (imapflow breaks it for the next command); `exists` asks for the next sync.
      if (!this.stopped && this.client === client && client.usable) void client.idle().catch(() => undefined);
    })();
  }

  /** Reads every message above the stored UID, in UID order, one at a time. */
  private async sync(client: ImapFlow): Promise<void> {
    const mailbox = client.mailbox;
    if (!mailbox) throw new Error('no mailbox open');
    const uidValidity = Number(mailbox.uidValidity);
    const { deps, linkId } = this.options;
    const stored = await getMailboxState(deps.db, linkId);
    let lastUid = stored && stored.uidValidity === uidValidity ? stored.lastUid : 0;
    if (stored && stored.uidValidity !== uidValidity) {
      this.log.warn({ was: stored.uidValidity, now: uidValidity }, 'UIDVALIDITY changed: re-reading the folder');
    }
    const found = await client.search({ uid: `${lastUid + 1}:*` }, { uid: true });
    const uids = (found || []).filter((uid) => uid > lastUid).sort((a, b) => a - b);
    if (uids.length > 0) this.log.info({ from: lastUid + 1, count: uids.length, uidValidity }, 'reading new mail');
    for (const uid of uids) {
      if (this.stopped || this.client !== client) return;
      await this.readOne(client, uid, uidValidity);
      lastUid = uid;
      await saveMailboxState(deps.db, linkId, { uidValidity, lastUid });
    }
    if (!stored || stored.uidValidity !== uidValidity) await saveMailboxState(deps.db, linkId, { uidValidity, lastUid });
    this.counters.syncs = (this.counters.syncs ?? 0) + 1;
    this.lastSync = new Date();
  }

  /**
   * Stores one message, then flags it \Seen (and moves it when a processed
   * folder is set). A failure that is not the connection's or the store's is
   * retried (by reconnecting with backoff) a few times; then the mail is
   * recorded as unreadable, naming its UID, so one poisoned message cannot
   * stop the mailbox. While the store itself is down nothing is skipped.
   */
  private async readOne(client: ImapFlow, uid: number, uidValidity: number): Promise<void> {
    const key = `${uidValidity}:${uid}`;
    const seen: { from?: string } = {};
    try {
      await this.store(client, uid, seen);
    } catch (err) {
      if (!client.usable || this.stopped) throw err;
      if (!(await this.storeReachable())) throw err;
      const attempts = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, attempts);
      this.log.warn({ err, uid, attempts }, 'storing a mail failed');
      if (attempts < MAX_ATTEMPTS) throw err;
      await this.storeUnreadable(uid, uidValidity, seen.from, attempts, err);
    }
    this.failures.delete(key);
    await client.messageFlagsAdd(String(uid), ['\\Seen'], { uid: true });
    const processed = this.options.settings.imap.processedFolder;
    if (processed) await client.messageMove(String(uid), processed, { uid: true });
  }

  private async store(client: ImapFlow, uid: number, seen: { from?: string }): Promise<void> {
    const { deps, linkId, settings } = this.options;
    const meta = await client.fetchOne(String(uid), { uid: true, internalDate: true, size: true }, { uid: true });
    if (!meta) return; // expunged since the search
    const internal = meta.internalDate ? new Date(meta.internalDate) : new Date();
    const receivedAt = Number.isNaN(internal.getTime()) ? new Date() : internal;
    const size = meta.size ?? 0;
    let email: NormalisedEmail;
    if (size > settings.maxMessageBytes) {
      email = await this.readOversized(client, uid, size, receivedAt);
      this.counters.oversized = (this.counters.oversized ?? 0) + 1;
    } else {
      const full = await client.fetchOne(String(uid), { uid: true, source: true }, { uid: true });
      if (!full || !full.source) return;
      email = await normaliseEmail(full.source, { maxAttachmentBytes: settings.maxAttachmentBytes, receivedAt });
    }
    seen.from = email.from;
    if (email.error) this.counters.unreadable = (this.counters.unreadable ?? 0) + 1;
    let automatic: string | null = email.automatic;
    if (automatic === null && email.from !== '') {
      const recent = await countRecentFromSender(deps.db, linkId, email.from, receivedAt, email.channelMessageId);
      if (recent >= settings.perSenderPerHour) {
        automatic = 'rate-limited';
        email.notes.push(`more than ${settings.perSenderPerHour} mails from this sender within an hour: no automatic notice is sent to them`);
        this.counters.rateLimited = (this.counters.rateLimited ?? 0) + 1;
      }
    }
    const attachments = await putAttachments(deps.db, email.attachments);
    const inbound = toInboundMessage(email, linkId, attachments, deps.maxMessageChars);
    if (inbound.from === '') inbound.from = UNKNOWN_SENDER;
    const result = await deps.receive(inbound);
    await recordEmailInbound(deps.db, {
      messageId: result.messageId,
      linkId,
      subject: email.subject,
      references: email.references,
      automatic,
      fullText: email.fullText,
      error: email.error,
      uid,
    });
    if (result.duplicate) this.counters.duplicates = (this.counters.duplicates ?? 0) + 1;
    else this.counters.messagesIn = (this.counters.messagesIn ?? 0) + 1;
    if (email.automatic) this.counters.automatic = (this.counters.automatic ?? 0) + 1;
  }

  /**
   * A mail over `maxMessageBytes` is not downloaded whole: its headers and
   * its first text part (when that is small) are read, and a note tells the
   * agent what stayed in the mailbox.
   */
  private async readOversized(client: ImapFlow, uid: number, size: number, receivedAt: Date): Promise<NormalisedEmail> {
    const { settings } = this.options;
    const head = await client.fetchOne(String(uid), { uid: true, headers: true, bodyStructure: true }, { uid: true });
    const headers = head && head.headers ? head.headers : Buffer.alloc(0);
    const email = await normaliseEmail(Buffer.concat([headers, Buffer.from('\r\n')]), { maxAttachmentBytes: settings.maxAttachmentBytes, receivedAt });
    const parts = head && head.bodyStructure ? leaves(head.bodyStructure) : [];
    const textPart = parts.find((p) => p.type === 'text/plain' && (p.size ?? 0) <= TEXT_PART_LIMIT && p.disposition !== 'attachment');
    let text = '';
    if (textPart) {
      const download = await client.download(String(uid), textPart.part ?? '1', { uid: true, maxBytes: TEXT_PART_LIMIT });
      if (download.content) text = (await readAll(download.content)).toString('utf8').replace(/\r\n?/g, '\n').replace(/\u0000/g, '').trim();
    }
    const left = parts.filter((p) => p !== textPart).map((p) => p.dispositionParameters?.filename ?? p.parameters?.name ?? p.type);
    email.text = foldQuotedHistory(text).text;
    email.fullText = text;
    email.attachments = [];
    email.error = `e-mail of ${formatSize(size)} is over this mailbox's limit of ${formatSize(settings.maxMessageBytes)}: ${
      textPart ? 'only its text was read' : 'its content was not read'
    }${left.length > 0 ? `; left in the mailbox: ${left.slice(0, 10).join(', ')}` : ''} (UID ${uid} in ${settings.imap.folder})`;
    return email;
  }

  /** The last resort for a mail that keeps failing: a message saying so, in the sender's conversation. */
  private async storeUnreadable(uid: number, uidValidity: number, from: string | undefined, attempts: number, err: unknown): Promise<void> {
    const { deps, linkId, settings } = this.options;
    const reason = err instanceof Error ? err.message : String(err);
    const result = await deps.receive({
      channel: 'email',
      channelLinkId: linkId,
      from: from || UNKNOWN_SENDER,
      channelMessageId: `<uid-${uidValidity}-${uid}.${linkId}@lifeline.invalid>`,
      text: fitBody(`[An e-mail could not be stored after ${attempts} attempts: ${reason}. It stays in the mailbox (UID ${uid} in ${settings.imap.folder}).]`, deps.maxMessageChars),
      receivedAt: new Date(),
    });
    await recordEmailInbound(deps.db, { messageId: result.messageId, linkId, subject: '', references: [], automatic: null, fullText: null, error: reason, uid });
    this.counters.unreadable = (this.counters.unreadable ?? 0) + 1;
    this.log.error({ uid, attempts, err: reason }, 'mail recorded as unreadable');
  }

  private async storeReachable(): Promise<boolean> {
    try {
      await this.options.deps.db.execute(sql`select 1`);
      return true;
    } catch {
      return false;
    }
  }
}

/** The leaf parts of a MIME structure, depth first. */
function leaves(node: MessageStructureObject): MessageStructureObject[] {
  return node.childNodes && node.childNodes.length > 0 ? node.childNodes.flatMap(leaves) : [node];
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}
