/**
 * What a link answers to each `deliver_sm`/`data_sm`, and when. The rule is
 * the architecture's: ESME_ROK only once what the PDU carried is committed.
 * - a one-part message: after `deps.receive` resolved (stored, or a
 *   duplicate of a stored one);
 * - a part of a concatenated message: after the part is stored in
 *   `sms_parts`; assembly follows (assembly.ts), and the sweep retries it if
 *   ingest fails then;
 * - a delivery receipt: after the message's status is recorded (or when it
 *   matches nothing we sent: there is nothing to store).
 * When storing fails (database down) the answer is ESME_RX_T_APPN, SMPP's
 * "ESME receiver temporary application error": the SMSC keeps the message
 * and retries, as it does for ESME_RMSGQFUL, without counting it against us
 * as a throttling event. A message ingest refuses as invalid (which the
 * normalisation should prevent) gets ESME_RX_P_APPN, so it is not retried
 * forever; the error is logged and counted (`storeFailures`).
 *
 * In server mode the PDUs are submit_sm/data_sm from an ESME: never receipts,
 * and answered with a message_id derived from the stored row (`m<message
 * id>` or `p<part id>`, the same for a repeat), through `answer`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import smpp from 'smpp';
import type { AdapterDeps } from '../types.ts';
import { AppError } from '../../src/errors.ts';
import type { Logger } from '../../src/log.ts';
import { applySubmissionReceipt, findOutboundByChannelId, getDeliveryStatus, storeSmsPart } from '../../src/store/sms-parts.ts';
import type { PartAssembler } from './assembly.ts';
import { decodeShortMessage, type DecodeOptions } from './encoding.ts';
import { classifyMessagePdu, ingestText, senderOf, singleMessageKey } from './normalise.ts';
import { matchingMessageIds, type DeliveryReceipt } from './receipt.ts';
import type { Counters, MessageAnswer } from './session.ts';
import type { MessagePdu } from './wire.ts';

/** What the handler needs from its link. */
export interface InboundContext {
  linkId: string;
  deps: Pick<AdapterDeps, 'db' | 'receive' | 'updateDelivery' | 'maxMessageChars'>;
  log: Logger;
  counters: Counters;
  decode: DecodeOptions;
  assembler: PartAssembler;
  /**
   * Resolves once the submit_sm answers already received are recorded (a
   * receipt may overtake that write); with `outstanding`, once the submits
   * still awaiting an answer have settled too (some SMSCs send the receipt
   * before the submit_sm_resp).
   */
  settleSubmissions(outstanding: boolean): Promise<void>;
  /** False when the peer is an ESME: its esm_class never marks a delivery receipt. */
  receipts: boolean;
  /** Server mode: builds the answer (message_id, follow-up) to a stored message or part. */
  answer?(pdu: MessagePdu, stored: StoredRef): MessageAnswer;
}

/** What an acknowledged message PDU was stored as. */
export type StoredRef = { kind: 'message'; messageId: number } | { kind: 'part'; partId: number };

/** How long a failure receipt waits for the outbound worker to record `sent` first. */
const SENT_WAIT_MS = 3000;
const SENT_POLL_MS = 50;

const bump = (counters: Counters, name: string) => {
  counters[name] = (counters[name] ?? 0) + 1;
};

/** Builds the `onMessage` of a session: resolves with the answer to the PDU. */
export function createMessageHandler(ctx: InboundContext): (pdu: MessagePdu) => Promise<number | MessageAnswer> {
  const stored = (pdu: MessagePdu, ref: StoredRef) => (ctx.answer ? ctx.answer(pdu, ref) : smpp.ESME_ROK);
  return async (pdu) => {
    try {
      const classified = classifyMessagePdu(ctx.linkId, pdu, ctx.receipts);
      if (classified.kind === 'receipt') return await handleReceipt(ctx, classified.receipt);
      if (classified.kind === 'part') {
        const part = await storeSmsPart(ctx.deps.db, classified.part);
        bump(ctx.counters, part.inserted ? 'partsIn' : 'partsRepeated');
        // A repeat of a part whose message is stored needs nothing more; otherwise see whether the group is whole.
        if (part.assembledMessageId === null) ctx.assembler.kick(classified.part);
        return stored(pdu, { kind: 'part', partId: part.id });
      }
      const receivedAt = Date.now();
      const text = decodeShortMessage(classified.dataCoding, classified.payload, ctx.decode);
      const result = await ctx.deps.receive({
        channel: 'sms',
        channelLinkId: ctx.linkId,
        from: senderOf(pdu.sourceAddr, pdu.sourceAddrTon),
        channelMessageId: singleMessageKey(ctx.linkId, pdu, classified.dataCoding, classified.payload, receivedAt),
        text: ingestText(text, ctx.deps.maxMessageChars),
        receivedAt: new Date(receivedAt),
      });
      bump(ctx.counters, result.duplicate ? 'duplicates' : 'messagesIn');
      return stored(pdu, { kind: 'message', messageId: result.messageId });
    } catch (err) {
      bump(ctx.counters, 'storeFailures');
      if (err instanceof AppError && !err.retryable && err.status < 500) {
        // Ingest refused the message itself: a retry would be refused again.
        ctx.log.error({ err, command: pdu.command, sequence: pdu.sequence }, 'inbound SMS refused; answered ESME_RX_P_APPN');
        return smpp.ESME_RX_P_APPN;
      }
      ctx.log.error({ err, command: pdu.command, sequence: pdu.sequence }, 'inbound SMS not stored; answered ESME_RX_T_APPN so the SMSC retries');
      return smpp.ESME_RX_T_APPN;
    }
  };
}

/** Maps a receipt to its outbound message (any part's SMSC id, in any of its spellings) and records the status. */
async function handleReceipt(ctx: InboundContext, receipt: DeliveryReceipt | undefined): Promise<number> {
  bump(ctx.counters, 'receipts');
  if (!receipt) {
    ctx.log.warn('delivery receipt without a message id ignored');
    return smpp.ESME_ROK;
  }
  const ids = matchingMessageIds(receipt.messageId);
  const error = receipt.status === 'failed' ? (receipt.error ? `${receipt.state} (error ${receipt.error})` : receipt.state) : null;
  const apply = () => applySubmissionReceipt(ctx.deps.db, ctx.linkId, ids, { status: receipt.status, error });
  await ctx.settleSubmissions(false);
  let outcome = await apply();
  if (!outcome) {
    await ctx.settleSubmissions(true);
    outcome = await apply();
  }
  if (outcome) {
    if (outcome.status !== 'pending') await record(ctx, outcome.messageId, outcome.status, outcome.error);
    ctx.log.debug({ messageId: outcome.messageId, state: receipt.state, status: outcome.status }, 'delivery receipt applied');
    return smpp.ESME_ROK;
  }
  const messageId = await findOutboundByChannelId(ctx.deps.db, ctx.linkId, ids);
  if (messageId === undefined) {
    bump(ctx.counters, 'receiptsUnmatched');
    ctx.log.info({ state: receipt.state }, 'delivery receipt for no message sent on this link');
  } else if (receipt.status !== 'sent') {
    await record(ctx, messageId, receipt.status, error);
  }
  return smpp.ESME_ROK;
}

/**
 * Records a receipt's final status. The outbound worker records `sent` only
 * after the send returned, and `sent` may follow `failed` (a retry): a
 * failure reported before that write would be overwritten, so it waits (a
 * few seconds at most) until the message is no longer `queued`.
 */
async function record(ctx: InboundContext, messageId: number, status: 'delivered' | 'failed', error: string | null): Promise<void> {
  if (status === 'failed') {
    const deadline = Date.now() + SENT_WAIT_MS;
    while ((await getDeliveryStatus(ctx.deps.db, messageId)) === 'queued' && Date.now() < deadline) await sleep(SENT_POLL_MS);
  }
  await ctx.deps.updateDelivery(messageId, status, error ?? undefined);
}
