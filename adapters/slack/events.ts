/**
 * `POST /webhooks/slack/:linkId/events`: Slack's Events API requests for one
 * link. The signature is checked over the raw body (the route has its own raw
 * body parser; nothing parses JSON before it), URL verification is answered
 * with its challenge, and a citizen's message is answered 200 only once it is
 * committed — a failure answers 5xx and Slack retries (at once, after a
 * minute, after five). A retried event (`X-Slack-Retry-Num`) keeps its
 * `<channel>:<ts>` id, so ingest stores it once.
 *
 * Any process serving HTTP may take these requests: the link is read from the
 * store (link-cache.ts), and the counters kept here are this process's.
 */
import express, { type Request, type Response } from 'express';
import type { InboundMessage, IngestResult } from '../../src/channel.ts';
import { AppError, AuthenticationError, NotFoundError, ValidationError } from '../../src/errors.ts';
import type { Logger } from '../../src/log.ts';
import { putAttachments } from '../../src/store/attachments.ts';
import { hasInboundMessage } from '../../src/store/inbound.ts';
import type { AdapterDeps } from '../types.ts';
import { downloadSlackFiles } from './files.ts';
import type { SlackLinkCache, SlackLinkEntry } from './link-cache.ts';
import { classifySlackPayload, fitText, type SlackCitizenMessage } from './normalise.ts';
import { checkSlackSignature } from './signature.ts';

/** Where Slack posts a link's events (the app's Event Subscriptions → Request URL). */
export const eventsPath = (linkId: string) => `/webhooks/slack/${linkId}/events`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Slack's event payloads are small; anything larger is not Slack's. */
const BODY_LIMIT = '1mb';
/** How long a looked-up user name is reused (a failed lookup: tried again sooner), and how many are kept. */
const NAME_TTL_MS = 60 * 60 * 1000;
const FAILED_NAME_TTL_MS = 5 * 60 * 1000;
const NAME_CACHE_SIZE = 5000;

export interface EventsRouteOptions {
  deps: AdapterDeps;
  links: SlackLinkCache;
  /** Adds to a link's counters in this process. */
  count(linkId: string, counter: string, by?: number): void;
  /** Time allowed for users.info before a message is stored without the sender's name. */
  userLookupMs: number;
  /** Time allowed for downloading a message's files before they are noted instead. */
  fileDownloadMs: number;
}

/** Display names of Slack users per link, looked up with users.info and reused for an hour. */
class UserNames {
  private readonly names = new Map<string, { name: string | null; until: number }>();
  private readonly pending = new Map<string, Promise<string | null>>();

  constructor(private readonly log: Logger) {}

  /** The user's name if known or found within `budgetMs`; a slower lookup still fills the cache for next time. */
  async lookup(link: SlackLinkEntry, user: string, budgetMs: number): Promise<string | undefined> {
    const key = `${link.id}:${user}`;
    const known = this.names.get(key);
    if (known && Date.now() < known.until) return known.name ?? undefined;
    let lookup = this.pending.get(key);
    if (!lookup) {
      lookup = link.client.users
        .info({ user })
        .then((res) => res.user?.real_name || res.user?.profile?.display_name || res.user?.name || null)
        .catch((err: unknown) => {
          this.log.debug({ err, linkId: link.id }, 'users.info failed; messages show the Slack user id');
          return null;
        })
        .then((name) => {
          if (this.names.size >= NAME_CACHE_SIZE) this.names.clear();
          this.names.set(key, { name, until: Date.now() + (name ? NAME_TTL_MS : FAILED_NAME_TTL_MS) });
          this.pending.delete(key);
          return name;
        });
      this.pending.set(key, lookup);
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), budgetMs);
    });
    const name = await Promise.race([lookup, late]);
    clearTimeout(timer);
    return name ?? undefined;
  }
}

/** Mounts the events route on the gateway's app. */
export function mountEventsRoute(o: EventsRouteOptions): void {
  const { deps } = o;
  const log = deps.log.child({ component: 'slack' });
  const names = new UserNames(log);

  /** Turns a citizen's Slack message into an InboundMessage (name and files within their budgets) and stores it. */
  async function store(link: SlackLinkEntry, m: SlackCitizenMessage): Promise<IngestResult> {
    const budget = AbortSignal.timeout(o.fileDownloadMs);
    const [name, files] = await Promise.all([
      names.lookup(link, m.user, o.userLookupMs),
      downloadSlackFiles(m.files, { botToken: link.secrets.botToken, apiUrl: link.settings.apiUrl, maxBytes: link.settings.maxAttachmentBytes, signal: budget }),
    ]);
    const attachments = await putAttachments(deps.db, files.kept);
    const text = [m.text.trim(), ...files.notes].filter((t) => t !== '').join('\n');
    const message: InboundMessage = {
      channel: 'slack',
      channelLinkId: link.id,
      from: `${m.team}:${m.user}`,
      channelMessageId: m.channelMessageId,
      text: fitText(text || (attachments.length > 0 ? '' : '[a Slack message without text]'), deps.maxMessageChars),
      attachments,
      receivedAt: m.receivedAt,
      ...(name ? { fromName: name } : {}),
      ...(m.threadIds.length > 0 ? { threadIds: m.threadIds } : {}),
    };
    return deps.receive(message);
  }

  async function verified(req: Request, res: Response, linkId: string, rawBody: Buffer): Promise<SlackLinkEntry> {
    let link = await o.links.get(linkId);
    let problem = link ? checkSlackSignature({ signingSecret: link.secrets.signingSecret, rawBody, headers: req.headers }) : null;
    if (problem === 'mismatch' && (await o.links.refresh(linkId))) {
      // Perhaps the signing secret was just changed: check against what is stored now.
      link = await o.links.get(linkId);
      problem = link ? checkSlackSignature({ signingSecret: link.secrets.signingSecret, rawBody, headers: req.headers }) : null;
    }
    if (!link) {
      // Slack's retries cannot fix a wrong URL. (A refused signature is retried: Slack signs
      // each retry anew, and a secret changed a moment ago is then read again.)
      res.setHeader('X-Slack-No-Retry', '1');
      throw new NotFoundError('Slack link', linkId);
    }
    if (problem) {
      o.count(linkId, 'badSignatures');
      log.warn({ linkId, problem, ip: req.ip }, 'Slack request refused: bad signature');
      throw new AuthenticationError(`Slack request signature ${problem === 'missing' ? 'missing' : problem === 'stale' ? 'timestamp outside the five-minute window' : 'does not match'}`);
    }
    return link;
  }

  async function handle(req: Request, res: Response): Promise<void> {
    const linkId = String(req.params.linkId);
    if (!UUID.test(linkId)) {
      res.setHeader('X-Slack-No-Retry', '1');
      throw new NotFoundError('Slack link', linkId);
    }
    const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const link = await verified(req, res, linkId, rawBody);
    let payload: unknown;
    try {
      payload = JSON.parse(rawBody.toString('utf8'));
    } catch {
      throw new ValidationError('request body is not JSON', 'body');
    }
    const outcome = classifySlackPayload(payload, link.settings);
    const retry = req.get('x-slack-retry-num');
    switch (outcome.kind) {
      case 'url_verification':
        log.info({ linkId }, 'Slack URL verification answered');
        res.json({ challenge: outcome.challenge });
        return;
      case 'rate_limited':
        o.count(linkId, 'appRateLimited');
        log.warn({ linkId }, 'Slack is holding back events: the app went over the Events API rate limit');
        res.status(200).end();
        return;
      case 'ignored':
        o.count(linkId, 'eventsIn');
        o.count(linkId, 'ignored');
        (outcome.unexpected ? log.warn.bind(log) : log.debug.bind(log))({ linkId, reason: outcome.reason }, 'Slack event ignored');
        res.status(200).end();
        return;
      case 'message': {
        o.count(linkId, 'eventsIn');
        const m = outcome.message;
        if (!link.enabled) {
          // Stopped by an administrator: nothing is taken; Slack retries for a few minutes.
          throw new AppError('link_stopped', `Slack link ${linkId} is stopped`, { status: 503 });
        }
        if (retry !== undefined && (await hasInboundMessage(deps.db, linkId, m.channelMessageId))) {
          o.count(linkId, 'duplicates');
          log.info({ linkId, retry, reason: req.get('x-slack-retry-reason'), eventId: m.eventId }, 'Slack retry of a stored message acknowledged');
          res.status(200).end();
          return;
        }
        const result = await store(link, m);
        o.count(linkId, result.duplicate ? 'duplicates' : 'messagesIn');
        log.info(
          { linkId, eventId: m.eventId, kind: m.kind, retry, messageId: result.messageId, conversationId: result.conversationId, duplicate: result.duplicate },
          'Slack message stored',
        );
        res.status(200).end();
        return;
      }
    }
  }

  deps.app.post('/webhooks/slack/:linkId/events', express.raw({ type: () => true, limit: BODY_LIMIT }), handle);
}
