/**
 * Slack links as the events route needs them. Slack's requests reach
 * whichever process serves HTTP, not only the one holding the link's lease,
 * so each process reads the link (settings and secrets) from the store. A
 * read is reused for `ttlMs`; the parsed link and its Web API client are
 * kept per link version, so only a changed link is parsed again. A request
 * whose signature does not match forces a fresh read (at most once a second
 * per link), so a rotated signing secret is honoured at once.
 */
import { AppError } from '../../src/errors.ts';
import type { Logger } from '../../src/log.ts';
import type { Db } from '../../src/store/db.ts';
import { getLink } from '../../src/store/links.ts';
import { parseSlackLink, type SlackSecrets, type SlackSettings } from './config.ts';
import { createSlackClient, type SlackClient } from './web-api.ts';

/** A Slack link as stored, parsed. */
export interface SlackLinkEntry {
  id: string;
  version: number;
  enabled: boolean;
  settings: SlackSettings;
  secrets: SlackSecrets;
  /** A Web API client with the link's bot token (names, files). */
  client: SlackClient;
}

const REFRESH_INTERVAL_MS = 1000;

export class SlackLinkCache {
  private readonly entries = new Map<string, { entry: SlackLinkEntry | undefined; readAt: number }>();
  private readonly refreshedAt = new Map<string, number>();

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly ttlMs: number,
  ) {}

  /** The link, or undefined when no Slack link has this id (or it was deleted). */
  async get(linkId: string): Promise<SlackLinkEntry | undefined> {
    const cached = this.entries.get(linkId);
    if (cached && Date.now() - cached.readAt < this.ttlMs) return cached.entry;
    return this.read(linkId);
  }

  /** Reads the link again unless that was done within the last second; true when it did. */
  async refresh(linkId: string): Promise<boolean> {
    const last = this.refreshedAt.get(linkId) ?? 0;
    if (Date.now() - last < REFRESH_INTERVAL_MS) return false;
    this.refreshedAt.set(linkId, Date.now());
    await this.read(linkId);
    return true;
  }

  private async read(linkId: string): Promise<SlackLinkEntry | undefined> {
    const row = await getLink(this.db, linkId);
    const previous = this.entries.get(linkId)?.entry;
    let entry: SlackLinkEntry | undefined;
    if (row && row.link.channel === 'slack') {
      const { link } = row;
      if (previous && previous.version === link.version) {
        entry = previous;
      } else {
        let parsed: ReturnType<typeof parseSlackLink>;
        try {
          parsed = parseSlackLink(link);
        } catch (err) {
          this.log.error({ err, linkId }, 'stored Slack link settings do not parse');
          throw new AppError('link_misconfigured', `Slack link ${linkId} has invalid settings`, { status: 500, cause: err });
        }
        entry = { id: link.id, version: link.version, enabled: link.enabled, ...parsed, client: createSlackClient(parsed.settings, parsed.secrets, this.log) };
      }
    }
    if (this.entries.size > 1000) this.entries.clear();
    this.entries.set(linkId, { entry, readAt: Date.now() });
    return entry;
  }
}
