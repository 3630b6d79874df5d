/**
 * Twilio SMS webhooks: an incoming text (MessageSid is its idempotency key;
 * photos and files fetched into the attachment store) and the status
 * callbacks of replies (mapped onto the message's delivery status).
 */
import { putAttachments } from '../../src/store/attachments.ts';
import type { Attachment } from '../../src/store/schema.ts';
import { hasInboundMessage } from '../../src/store/inbound.ts';
import { messageOnLink, recordTwilioMessage, updateTwilioMessageStatus } from '../../src/store/twilio-messages.ts';
import type { TwilioContext, WebhookLink } from './context.ts';
import { deliveryFromMessageStatus, mediaName, param, parseSmsWebhook, type IncomingMedia, type WebhookParams } from './normalise.ts';
import { fetchTwilioFile, FetchRefused } from './rest.ts';
import { emptyMessagingResponse } from './twiml.ts';

/**
 * Fetches an MMS's media into the attachment store. What cannot be kept
 * (too large, unreachable, not on Twilio's API) stays listed with its URL,
 * which the console never loads, and a note in the text says why.
 */
async function keepMedia(ctx: TwilioContext, link: WebhookLink, media: IncomingMedia[]): Promise<{ attachments: Attachment[]; notes: string[] }> {
  // Fetched side by side, so the webhook is answered within one fetch timeout however many items there are.
  const kept = await Promise.all(
    media.map(async (item, index): Promise<{ attachment: Attachment; note?: string }> => {
      const name = mediaName(item.contentType, index);
      try {
        const file = await fetchTwilioFile(item.url, {
          accountSid: link.settings.accountSid,
          authToken: link.secrets.authToken,
          apiBaseUrl: ctx.apiBaseUrl,
          maxBytes: link.settings.maxMediaBytes,
          timeoutMs: ctx.fetchTimeoutMs,
        });
        const [stored] = await putAttachments(ctx.deps.db, [{ name, contentType: item.contentType, content: file.content }]);
        if (stored) return { attachment: stored };
        throw new Error('the attachment store kept nothing');
      } catch (err) {
        const reason = err instanceof FetchRefused ? err.message : `not fetched: ${err instanceof Error ? err.message : String(err)}`;
        ctx.count(link.id, 'mediaNotKept');
        ctx.log.warn({ linkId: link.id, index, reason }, 'MMS media not kept');
        return { attachment: { name, contentType: item.contentType, size: 0, url: item.url }, note: `[${name} (${item.contentType}) ${reason}]` };
      }
    }),
  );
  return { attachments: kept.map((k) => k.attachment), notes: kept.flatMap((k) => (k.note ? [k.note] : [])) };
}

/** An incoming text: stored once per MessageSid, then answered with an empty TwiML response. */
export async function receiveSms(ctx: TwilioContext, link: WebhookLink, params: WebhookParams): Promise<string> {
  const sms = parseSmsWebhook(params);
  ctx.count(link.id, 'smsIn');
  if (!link.settings.phoneNumbers.includes(sms.to)) {
    ctx.log.warn({ linkId: link.id, to: sms.to }, 'text to a number not listed on the link; stored anyway');
  }
  // A repeated webhook: acknowledge without fetching the media again.
  if (await hasInboundMessage(ctx.deps.db, link.id, sms.sid)) {
    ctx.count(link.id, 'duplicates');
    return emptyMessagingResponse();
  }
  const { attachments, notes } = await keepMedia(ctx, link, sms.media);
  const parts = [sms.body, ...notes].filter((p) => p.trim() !== '');
  const text = parts.join('\n') || (attachments.length > 0 ? '' : '(empty text message)');
  const result = await ctx.deps.receive({
    channel: 'sms',
    channelLinkId: link.id,
    from: sms.from,
    channelMessageId: sms.sid,
    text,
    attachments,
    receivedAt: new Date(),
  });
  if (result.duplicate) ctx.count(link.id, 'duplicates');
  await recordTwilioMessage(ctx.deps.db, {
    linkId: link.id,
    sid: sms.sid,
    messageId: result.messageId,
    direction: 'inbound',
    fromNumber: sms.from,
    toNumber: sms.to,
    status: 'received',
  });
  return emptyMessagingResponse();
}

/**
 * A reply's status callback. The message is named by the `m` parameter of
 * the (signed) callback URL the reply was sent with, else found by its SID.
 */
export async function replyStatus(ctx: TwilioContext, link: WebhookLink, params: WebhookParams, query: Record<string, unknown>): Promise<void> {
  ctx.count(link.id, 'statusCallbacks');
  const sid = param(params, 'MessageSid') ?? param(params, 'SmsSid');
  const status = param(params, 'MessageStatus') ?? param(params, 'SmsStatus');
  const errorCode = param(params, 'ErrorCode') || null;
  const known = sid ? await updateTwilioMessageStatus(ctx.deps.db, link.id, sid, status ?? 'unknown', errorCode) : undefined;
  const named = typeof query.m === 'string' && /^[1-9][0-9]{0,15}$/.test(query.m) ? Number(query.m) : undefined;
  const messageId = known ?? (named !== undefined && (await messageOnLink(ctx.deps.db, named, link.id)) ? named : undefined);
  if (messageId === undefined) {
    ctx.log.warn({ linkId: link.id, sid, status }, 'status callback for a message this link did not send');
    return;
  }
  const delivery = deliveryFromMessageStatus(status, errorCode ?? undefined);
  if (!delivery || delivery.status === 'queued') return;
  await ctx.deps.updateDelivery(messageId, delivery.status, delivery.error ?? undefined);
}
