/**
 * One mailbox link: an IMAP connection (imapflow) to the link's folder that
 * reads every message newer than the last stored UID, hands each to ingest,
 * flags it \Seen only after ingest committed, then advances the stored UID.
 * Then it waits in IDLE and reads again on every `exists`. A lost connection
 * is reopened with exponential backoff and jitter; whatever arrived meanwhile
 * is read on reconnect (backfill). A changed UIDVALIDITY re-reads the folder
 * from the start; ingest drops what it already has by Message-ID.
 */
import { ImapFlow } from 'imapflow';
import type { LinkStatus } from '../../src/channel.ts';
import type { Logger } from '../../src/log.ts';
import { getMailboxState, recordEmailInbound, saveMailboxState } from '../../src/store/mailbox-state.ts';
import type { AdapterDeps } from '../types.ts';
import type { EmailSecrets, EmailSettings } from './config.ts';
import { normaliseEmail, toInboundMessage } from './normalise.ts';

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

const COUNTERS = ['messagesIn', 'duplicates', 'automatic', 'messagesOut', 'reconnects', 'syncs'] as const;

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
  private syncing: Promise<void> | undefined;
  private again = false;

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
    await Promise.race([this.syncing?.catch(() => undefined), new Promise((r) => setTimeout(r, 3000).unref())]);
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
    await this.syncing;
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

  /** Runs a sync now, or once more after the one under way. */
  private requestSync(client: ImapFlow): void {
    if (this.syncing) {
      this.again = true;
      return;
    }
    this.syncing = (async () => {
      try {
        do {
          this.again = false;
          await this.sync(client);
        } while (this.again && !this.stopped && this.client === client);
      } catch (err) {
        this.log.warn({ err }, 'mailbox sync failed');
        if (this.client === client) this.failed(err);
      } finally {
        this.syncing = undefined;
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
    const { deps, linkId, settings } = this.options;
    const stored = await getMailboxState(deps.db, linkId);
    let lastUid = stored && stored.uidValidity === uidValidity ? stored.lastUid : 0;
    if (stored && stored.uidValidity !== uidValidity) {
      this.log.warn({ was: stored.uidValidity, now: uidValidity }, 'UIDVALIDITY changed: re-reading the folder');
    }
    const found = await client.search({ uid: `${lastUid + 1}:*` }, { uid: true });
    const uids = (found || []).filter((uid) => uid > lastUid).sort((a, b) => a - b);
    for (const uid of uids) {
      if (this.stopped || this.client !== client) return;
      const message = await client.fetchOne(String(uid), { uid: true, source: true, internalDate: true, size: true }, { uid: true });
      if (message && message.source) {
        const receivedAt = message.internalDate ? new Date(message.internalDate) : new Date();
        if (message.size !== undefined && message.size > settings.maxMessageBytes) {
          this.log.warn({ uid, size: message.size }, 'message over maxMessageBytes; stored anyway');
        }
        const email = await normaliseEmail(message.source, {
          maxAttachmentBytes: settings.maxAttachmentBytes,
          receivedAt: Number.isNaN(receivedAt.getTime()) ? new Date() : receivedAt,
        });
        const inbound = toInboundMessage(email, linkId);
        if (inbound.from === '') inbound.from = 'unknown-sender@invalid';
        const result = await deps.receive(inbound);
        if (result.messageId > 0) {
          await recordEmailInbound(deps.db, {
            messageId: result.messageId,
            linkId,
            subject: email.subject,
            references: email.references,
            automatic: email.automatic,
          });
        }
        if (result.duplicate) this.counters.duplicates = (this.counters.duplicates ?? 0) + 1;
        else this.counters.messagesIn = (this.counters.messagesIn ?? 0) + 1;
        if (email.automatic) this.counters.automatic = (this.counters.automatic ?? 0) + 1;
        await client.messageFlagsAdd(String(uid), ['\\Seen'], { uid: true });
        if (settings.imap.processedFolder) await client.messageMove(String(uid), settings.imap.processedFolder, { uid: true });
      }
      lastUid = uid;
      await saveMailboxState(deps.db, linkId, { uidValidity, lastUid });
    }
    if (!stored || stored.uidValidity !== uidValidity) await saveMailboxState(deps.db, linkId, { uidValidity, lastUid });
    this.counters.syncs = (this.counters.syncs ?? 0) + 1;
    this.lastSync = new Date();
  }
}
