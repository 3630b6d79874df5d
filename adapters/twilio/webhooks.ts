/**
 * The webhook routes, `/webhooks/twilio/:linkId/…`, served by every process
 * that serves HTTP (not only the one running the link). Each request's link
 * is loaded from the store (its parsed settings cached per link version) and
 * its X-Twilio-Signature checked against the link's public base URL plus the
 * request path and its form parameters, before anything is read or written:
 * an unknown, deleted or disabled link answers 404, a missing or wrong
 * signature 403, and neither changes anything.
 */
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import twilio from 'twilio';
import { webhookLinkParams } from '../../src/http/schemas.ts';
import { getLink } from '../../src/store/links.ts';
import { parseTwilioLink } from './config.ts';
import type { TwilioContext, WebhookLink } from './context.ts';
import { param, type WebhookParams } from './normalise.ts';
import { receiveSms, replyStatus } from './sms.ts';
import { webhookUrls, hangUp } from './twiml.ts';
import { callStatus, dialResult, incomingCall, queueResult, holdInQueue, recording, transcription } from './voice.ts';

type Handler = (link: WebhookLink, params: WebhookParams, req: Request) => Promise<string | void> | string | void;

const deny = (res: Response, status: 403 | 404, code: string, message: string) => {
  res.status(status).json({ error: { code, message } });
};

/** Creates the router; mount it at `/webhooks/twilio`. */
export function twilioWebhooks(ctx: TwilioContext): Router {
  const cache = new Map<string, { version: number; link: WebhookLink }>();

  /** The enabled Twilio link with this id, settings parsed once per version; undefined otherwise. */
  async function loadLink(id: string): Promise<WebhookLink | undefined> {
    if (!webhookLinkParams.safeParse({ linkId: id }).success) return undefined;
    const row = await getLink(ctx.deps.db, id);
    if (!row || row.link.channel !== 'twilio' || !row.link.enabled) {
      cache.delete(id);
      return undefined;
    }
    const cached = cache.get(id);
    if (cached?.version === row.link.version) return cached.link;
    const { settings, secrets } = parseTwilioLink(row.link);
    const link = { id, name: row.link.name, settings, secrets, urls: webhookUrls(settings.publicBaseUrl, id) };
    cache.set(id, { version: row.link.version, link });
    return link;
  }

  /** Runs a handler for a verified request: TwiML answers as text/xml, the rest as 204. */
  const verified = (handler: Handler) => async (req: Request, res: Response, _next: NextFunction) => {
    const linkId = String(req.params.linkId);
    const link = await loadLink(linkId);
    if (!link) return deny(res, 404, 'not_found', `no enabled Twilio link ${linkId}`);
    const params = (req.body ?? {}) as WebhookParams;
    const signature = req.get('x-twilio-signature');
    const url = `${link.settings.publicBaseUrl}${req.originalUrl}`;
    if (!signature || !twilio.validateRequest(link.secrets.authToken, signature, url, params)) {
      ctx.count(link.id, 'badSignatures');
      ctx.log.warn({ linkId, path: req.path, signed: signature !== undefined, ip: req.ip }, 'Twilio webhook refused: bad or missing signature');
      return deny(res, 403, 'invalid_signature', 'the request is not signed by this link’s Twilio account');
    }
    if (param(params, 'AccountSid') !== link.settings.accountSid) {
      ctx.count(link.id, 'badSignatures');
      return deny(res, 403, 'wrong_account', 'the request is for another Twilio account');
    }
    const answer = await handler(link, params, req);
    if (typeof answer === 'string') res.type('text/xml').send(answer);
    else res.status(204).end();
  };

  const r = Router({ mergeParams: true });
  r.use(express.urlencoded({ extended: false, limit: '100kb', parameterLimit: 500 }));
  r.post('/:linkId/sms', verified((link, params) => receiveSms(ctx, link, params)));
  r.post('/:linkId/sms/status', verified((link, params, req) => replyStatus(ctx, link, params, req.query as Record<string, unknown>)));
  r.post('/:linkId/voice', verified((link, params) => incomingCall(ctx, link, params)));
  r.post('/:linkId/voice/status', verified((link, params) => callStatus(ctx, link, params)));
  r.post('/:linkId/voice/dial-result', verified((link, params) => dialResult(ctx, link, params)));
  r.post('/:linkId/voice/queue-result', verified((link, params) => queueResult(ctx, link, params)));
  r.post('/:linkId/voice/queue-wait', verified((link, params) => holdInQueue(link, params)));
  r.post('/:linkId/voice/recording', verified((link, params, req) => recording(ctx, link, params, req.query.kind === 'voicemail' ? 'voicemail' : 'call')));
  r.post('/:linkId/voice/transcription', verified((link, params) => transcription(ctx, link, params)));
  r.post('/:linkId/voice/done', verified(() => hangUp()));
  return r;
}
