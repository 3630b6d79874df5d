/**
 * Sending a reply as SMS over a bound link: split (GSM-7 when every
 * character fits, else UCS-2; a concatenation reference per message), one
 * submit_sm per part with a delivery receipt requested (client mode; in
 * server mode one deliver_sm per part to the bound ESME), and every part's
 * SMSC id recorded in `sms_submissions` as soon as it is accepted.
 *
 * The record makes a retried send resume: parts the SMSC accepted are not
 * sent again (the reference is derived from the message id, so the handset
 * still joins old and new parts). It also maps a receipt for any part back
 * to the message after a restart.
 *
 * Throttling answers (ESME_RTHROTTLED, ESME_RMSGQFUL) are retried here with
 * a short backoff; a timeout, a closed session or a temporary SMSC error
 * fails the send as retryable, and the outbound worker tries again later. A
 * part that timed out may have reached the SMSC: SMPP has no idempotent
 * submit, so such a part can arrive twice (handsets drop a repeated part of
 * a concatenated message; a one-part text would show twice).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import smpp, { type PDU, type PduOptions } from 'smpp';
import { smppDestination } from './normalise.ts';
import type { OutboundMessage, SendResult } from '../types.ts';
import { ChannelSendError } from '../../src/errors.ts';
import type { Logger } from '../../src/log.ts';
import type { Db } from '../../src/store/db.ts';
import { listSubmissions, recordSubmission } from '../../src/store/sms-parts.ts';
import type { SmppSettings } from './config.ts';
import { SmppRequestError, statusName, type Counters } from './session.ts';
import { splitSms, type SplitSms } from './split.ts';

/** The settings that address a reply. */
export type ReplyAddressing = Pick<SmppSettings, 'sourceAddr' | 'sourceAddrTon' | 'sourceAddrNpi' | 'destAddrTon' | 'destAddrNpi'>;

/** What sending needs from its link. */
export interface OutboundContext {
  linkId: string;
  settings: ReplyAddressing;
  /** registered_delivery of each part: a final receipt from an SMSC, none from an ESME. */
  registeredDelivery: number;
  db: Db;
  log: Logger;
  counters: Counters;
  /** Sends one paced part (submit_sm or deliver_sm) on a bound session; throws a retryable ChannelSendError when not bound. */
  submit(fields: PduOptions): Promise<PDU>;
  /** Runs a write a receipt may depend on, so receipt handling can wait for it. */
  track(write: Promise<void>): Promise<void>;
}

/** Throttling answers retried per part before the send is handed back to the worker's backoff. */
const THROTTLE_RETRIES = 5;
const THROTTLE_BACKOFF_MS = 200;

/** Statuses worth another try later: the SMSC's trouble, not the message's. */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([
  smpp.ESME_RSYSERR,
  smpp.ESME_RMSGQFUL,
  smpp.ESME_RTHROTTLED,
  smpp.ESME_RINVBNDSTS,
  smpp.ESME_RSUBMITFAIL,
  smpp.ESME_RX_T_APPN,
  smpp.ESME_RDELIVERYFAILURE,
  smpp.ESME_RUNKNOWNERR,
]);

/** True when a submit_sm_resp status may succeed on a later attempt. */
export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUSES.has(status);
}

/** The concatenation reference of a message: derived from its id, so every attempt uses the same one. */
export function referenceOf(messageId: number): number {
  return messageId % 256;
}

/**
 * Sends `msg` on the link; resolves once the SMSC accepted every part.
 * @returns `sent`, with the first part's SMSC message id.
 * @throws ChannelSendError, retryable unless the SMSC refused the message itself.
 */
export async function sendSms(ctx: OutboundContext, msg: OutboundMessage): Promise<SendResult> {
  let split: SplitSms;
  try {
    split = splitSms(msg.text, { reference: referenceOf(msg.messageId) });
  } catch (err) {
    throw new ChannelSendError(`cannot send as SMS: ${(err as Error).message}`, { retryable: false, cause: err });
  }
  const accepted = new Map<number, string>();
  for (const s of await listSubmissions(ctx.db, ctx.linkId, msg.messageId)) {
    if (s.parts === split.parts.length && !accepted.has(s.part)) accepted.set(s.part, s.smscMessageId);
  }
  const results = await Promise.allSettled(
    split.parts.map((body, index) => accepted.get(index + 1) ?? submitPart(ctx, msg, split, body, index + 1)),
  );
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failures.length > 0) {
    const permanent = failures.find((f) => f instanceof ChannelSendError && !f.retryable);
    throw permanent ?? failures[0];
  }
  ctx.counters.messagesOut = (ctx.counters.messagesOut ?? 0) + 1;
  const ids = results.map((r) => (r.status === 'fulfilled' ? r.value : ''));
  ctx.log.info({ messageId: msg.messageId, parts: split.parts.length, resumed: accepted.size }, 'SMS accepted by the SMSC');
  return { status: 'sent', channelMessageId: ids[0] };
}

async function submitPart(ctx: OutboundContext, msg: OutboundMessage, split: SplitSms, body: Buffer, part: number): Promise<string> {
  const total = split.parts.length;
  const s = ctx.settings;
  for (let attempt = 0; ; attempt++) {
    let resp: PDU;
    try {
      resp = await ctx.submit({
        source_addr_ton: s.sourceAddrTon,
        source_addr_npi: s.sourceAddrNpi,
        source_addr: s.sourceAddr,
        dest_addr_ton: s.destAddrTon,
        dest_addr_npi: s.destAddrNpi,
        destination_addr: smppDestination(msg.to),
        esm_class: split.esmClass,
        registered_delivery: ctx.registeredDelivery,
        data_coding: split.dataCoding,
        short_message: body,
      });
    } catch (err) {
      if (err instanceof SmppRequestError) {
        throw new ChannelSendError(`part ${part} of ${total}: ${err.message}`, { retryable: err.retryable, cause: err });
      }
      throw err;
    }
    const status = resp.command_status;
    if (status === smpp.ESME_ROK && resp.command !== 'generic_nack') {
      // A peer that answers without an id (always, for deliver_sm) still accepted the part: remember it so a retry skips it.
      const smscId = resp.message_id || `none:${msg.messageId}:${part}`;
      await ctx.track(recordSubmission(ctx.db, { linkId: ctx.linkId, smscMessageId: smscId, messageId: msg.messageId, part, parts: total }));
      ctx.counters.partsOut = (ctx.counters.partsOut ?? 0) + 1;
      return smscId;
    }
    if ((status === smpp.ESME_RTHROTTLED || status === smpp.ESME_RMSGQFUL) && attempt < THROTTLE_RETRIES) {
      ctx.counters.throttled = (ctx.counters.throttled ?? 0) + 1;
      await sleep(THROTTLE_BACKOFF_MS * 2 ** attempt);
      continue;
    }
    if (status === smpp.ESME_RTHROTTLED || status === smpp.ESME_RMSGQFUL) ctx.counters.throttled = (ctx.counters.throttled ?? 0) + 1;
    throw new ChannelSendError(`peer refused part ${part} of ${total}: ${statusName(status)}`, { retryable: isRetryableStatus(status) });
  }
}
