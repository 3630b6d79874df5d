/**
 * Twilio voice webhooks. An incoming call is an inbound message of the
 * caller's conversation (a caller who texted before lands in the same one)
 * and a `calls` row that status callbacks and the dial or queue result move
 * along. A call nobody answered becomes a call-back task: the conversation is
 * raised above every rule-based priority and marked, and a "Missed call"
 * message reaches the console. Recordings and voicemail transcriptions are
 * attached to the conversation.
 */
import { putAttachments } from '../../src/store/attachments.ts';
import {
  addSystemNote,
  advanceCallStatus,
  clearCallback,
  getCall,
  markCallAbandoned,
  markCallAnswered,
  openCall,
  requestCallback,
  setCallRecording,
  setCallTranscription,
  withdrawCallback,
} from '../../src/store/calls.ts';
import type { Attachment, CallRow } from '../../src/store/schema.ts';
import { hasInboundMessage } from '../../src/store/inbound.ts';
import type { TwilioContext, WebhookLink } from './context.ts';
import {
  callerAddress,
  callStatusOf,
  dialAnswered,
  formatSeconds,
  isWithheld,
  param,
  parseCallParams,
  queueOutcome,
  type CallParams,
  type WebhookParams,
} from './normalise.ts';
import { fetchTwilioFile, FetchRefused } from './rest.ts';
import { answerCall, hangUp, noAnswer, queueWait } from './twiml.ts';

const seconds = (value: string | undefined): number | undefined => {
  const n = Number(value);
  return value !== undefined && value !== '' && Number.isFinite(n) && n >= 0 ? Math.round(n) : undefined;
};

const callerOf = (call: Pick<CallRow, 'fromNumber'>) => (isWithheld(call.fromNumber) ? 'a withheld number' : call.fromNumber);

/** Stores the call's inbound message and row, once, whichever webhook arrives first. */
async function openIncomingCall(ctx: TwilioContext, link: WebhookLink, call: CallParams, status: CallRow['status']): Promise<CallRow> {
  const known = await getCall(ctx.deps.db, call.callSid);
  if (known) return known;
  const result = await ctx.deps.receive({
    channel: 'voice',
    channelLinkId: link.id,
    from: callerAddress(call),
    ...(call.callerName ? { fromName: call.callerName } : {}),
    channelMessageId: call.callSid,
    text: `📞 Incoming call from ${isWithheld(call.from) ? 'a withheld number' : call.from}`,
    receivedAt: new Date(),
  });
  const opened = await openCall(ctx.deps.db, {
    callSid: call.callSid,
    linkId: link.id,
    conversationId: result.conversationId,
    messageId: result.messageId,
    fromNumber: call.from,
    toNumber: call.to,
    status,
    startedAt: new Date(),
  });
  if (opened.created) ctx.count(link.id, 'callsIn');
  return opened.call;
}

/** The call's log line in its conversation (a note only call-takers see), pushed to the console. */
async function note(ctx: TwilioContext, link: WebhookLink, conversationId: string, clientId: string, text: string, attachments?: Attachment[]): Promise<void> {
  const id = await addSystemNote(ctx.deps.db, { conversationId, linkId: link.id, text, clientId, ...(attachments ? { attachments } : {}) });
  if (id !== undefined) await ctx.deps.publishMessage(id);
}

/**
 * Makes an unanswered call a call-back task. Each step is idempotent and the
 * outcome is written last, so a handler that fails part-way is completed by
 * the next callback of the call. The conversation is raised before the
 * "Missed call" message is routed, so that message is offered at the top.
 */
async function abandon(ctx: TwilioContext, link: WebhookLink, call: CallRow, reason: string): Promise<void> {
  if (call.outcome) return;
  const db = ctx.deps.db;
  await requestCallback(db, call.conversationId, call.callSid);
  const withheld = isWithheld(call.fromNumber);
  const result = await ctx.deps.receive({
    channel: 'voice',
    channelLinkId: link.id,
    from: callerAddress({ from: call.fromNumber, callSid: call.callSid }),
    channelMessageId: `${call.callSid}:missed`,
    text: `📞 Missed call — ${reason}. ${withheld ? 'The number was withheld: it cannot be called back.' : `Call back ${call.fromNumber}.`}`,
    receivedAt: new Date(),
    threadIds: [call.callSid],
  });
  if (result.conversationId !== call.conversationId) await requestCallback(db, result.conversationId, call.callSid);
  if (await markCallAbandoned(db, call.callSid, reason)) {
    ctx.count(link.id, 'abandonedCalls');
    ctx.log.info({ linkId: link.id, callSid: call.callSid, conversationId: result.conversationId, reason }, 'call abandoned: call-back task');
  } else if ((await getCall(db, call.callSid))?.outcome === 'answered') {
    // Answered meanwhile (a concurrent dial result): no call-back after all.
    await withdrawCallback(db, call.callSid);
  }
  await ctx.deps.publishConversation(result.conversationId);
}

/** A call-taker answered: the call is answered, and a call-back its hang-up raised too early is withdrawn. */
async function answered(ctx: TwilioContext, link: WebhookLink, call: CallRow): Promise<void> {
  const db = ctx.deps.db;
  const done = await markCallAnswered(db, call.callSid, new Date());
  if (!done) return;
  if (done.previous === 'abandoned') {
    const conversationId = await withdrawCallback(db, call.callSid);
    await note(ctx, link, done.call.conversationId, `twilio:${call.callSid}:answered-late`, '📞 The call was answered after all: no call-back needed for it.');
    if (conversationId) await ctx.deps.publishConversation(conversationId);
  } else if (await clearCallback(db, done.call.conversationId, call.callSid)) {
    // An earlier missed call of this conversation: this answered call is the call-back.
    await ctx.deps.publishConversation(done.call.conversationId);
  }
}

/** POST voice: an incoming call opens or joins the caller's conversation and is answered with TwiML. */
export async function incomingCall(ctx: TwilioContext, link: WebhookLink, params: WebhookParams): Promise<string> {
  const call = parseCallParams(params);
  await openIncomingCall(ctx, link, call, callStatusOf(param(params, 'CallStatus')) ?? 'ringing');
  return answerCall(link.settings.voice, link.urls);
}

/** POST voice/status: ringing, in progress, completed (with its duration), busy, no-answer, failed, canceled. */
export async function callStatus(ctx: TwilioContext, link: WebhookLink, params: WebhookParams): Promise<void> {
  const call = parseCallParams(params);
  const status = callStatusOf(param(params, 'CallStatus'));
  ctx.count(link.id, 'statusCallbacks');
  if (!status) return;
  await openIncomingCall(ctx, link, call, status === 'queued' || status === 'initiated' ? status : 'ringing');
  const timestamp = Date.parse(param(params, 'Timestamp') ?? '');
  const durationSeconds = seconds(param(params, 'CallDuration'));
  const applied = await advanceCallStatus(ctx.deps.db, call.callSid, status, {
    at: Number.isNaN(timestamp) ? new Date() : new Date(timestamp),
    ...(durationSeconds !== undefined ? { durationSeconds } : {}),
  });
  if (!applied?.ended) return;
  let ended = applied.call;
  if (!ended.outcome) {
    const reason = status === 'completed' ? 'the caller hung up before a call-taker answered' : `the call ended (${status}) before a call-taker answered`;
    await abandon(ctx, link, ended, reason);
    ended = (await getCall(ctx.deps.db, call.callSid)) ?? ended;
  }
  const lasted = ended.durationSeconds !== null ? ` after ${formatSeconds(ended.durationSeconds)}` : '';
  const how = ended.outcome === 'answered' ? 'answered by a call-taker' : `not answered (${ended.outcomeReason ?? status})`;
  await note(ctx, link, ended.conversationId, `twilio:${call.callSid}:ended`, `📞 Call ended${lasted}: ${how}.`);
}

/** POST voice/dial-result: the <Dial> ended; answered, or nobody answered (the no-answer path). */
export async function dialResult(ctx: TwilioContext, link: WebhookLink, params: WebhookParams): Promise<string> {
  const call = await openIncomingCall(ctx, link, parseCallParams(params), 'in-progress');
  const dialStatus = param(params, 'DialCallStatus');
  if (dialAnswered(dialStatus)) {
    await answered(ctx, link, call);
    return hangUp();
  }
  await abandon(ctx, link, call, `nobody answered (${dialStatus ?? 'no dial result'})`);
  return noAnswer(link.settings.voice, link.urls);
}

/** POST voice/queue-result: the caller left the <Enqueue> queue: bridged, hung up, or not answered in time. */
export async function queueResult(ctx: TwilioContext, link: WebhookLink, params: WebhookParams): Promise<string> {
  const call = await openIncomingCall(ctx, link, parseCallParams(params), 'in-progress');
  const result = param(params, 'QueueResult');
  const waited = formatSeconds(seconds(param(params, 'QueueTime')) ?? 0);
  switch (queueOutcome(result)) {
    case 'answered':
      await answered(ctx, link, call);
      return hangUp();
    case 'hung-up':
      await abandon(ctx, link, call, `the caller hung up after waiting ${waited} in the queue`);
      return hangUp();
    case 'redirected':
      return hangUp();
    case 'not-answered':
      await abandon(ctx, link, call, `nobody answered within ${waited} (${result ?? 'no queue result'})`);
      return noAnswer(link.settings.voice, link.urls);
  }
}

/** POST voice/queue-wait: what the waiting caller hears, until the wait is over. */
export function holdInQueue(link: WebhookLink, params: WebhookParams): string {
  return queueWait(link.settings.voice, seconds(param(params, 'QueueTime')) ?? 0);
}

/**
 * POST voice/recording?kind=call|voicemail: a finished recording, fetched
 * into the attachment store. A whole-call recording is a note in the call's
 * conversation; a voicemail is the caller speaking, so it is an inbound
 * message (routed, and reopening the conversation if it was closed).
 */
export async function recording(ctx: TwilioContext, link: WebhookLink, params: WebhookParams, kind: 'call' | 'voicemail'): Promise<void> {
  const recordingSid = param(params, 'RecordingSid');
  const url = param(params, 'RecordingUrl');
  const callSid = param(params, 'CallSid');
  const status = param(params, 'RecordingStatus') ?? 'completed';
  if (!recordingSid || !url || !callSid || status !== 'completed') return;
  const call = await getCall(ctx.deps.db, callSid);
  if (!call) {
    ctx.log.warn({ linkId: link.id, callSid, recordingSid }, 'recording of an unknown call');
    return;
  }
  if (kind === 'voicemail' && (await hasInboundMessage(ctx.deps.db, link.id, recordingSid))) return;
  ctx.count(link.id, 'recordings');
  const duration = seconds(param(params, 'RecordingDuration')) ?? null;
  await setCallRecording(ctx.deps.db, callSid, { sid: recordingSid, url, durationSeconds: duration });
  const name = `${kind === 'voicemail' ? 'voicemail' : 'call-recording'}-${recordingSid}.mp3`;
  let attachments: Attachment[];
  let kept = '';
  try {
    const file = await fetchTwilioFile(`${url}.mp3`, {
      accountSid: link.settings.accountSid,
      authToken: link.secrets.authToken,
      apiBaseUrl: ctx.apiBaseUrl,
      maxBytes: link.settings.maxRecordingBytes,
      timeoutMs: ctx.fetchTimeoutMs,
    });
    attachments = await putAttachments(ctx.deps.db, [{ name, contentType: 'audio/mpeg', content: file.content }]);
  } catch (err) {
    ctx.count(link.id, 'mediaNotKept');
    const reason = err instanceof FetchRefused ? err.message : `not fetched: ${err instanceof Error ? err.message : String(err)}`;
    attachments = [{ name, contentType: 'audio/mpeg', size: 0, url }];
    kept = ` [${reason}; it stays in the Twilio account as ${recordingSid}]`;
  }
  const length = duration !== null ? ` (${formatSeconds(duration)})` : '';
  if (kind === 'call') {
    await note(ctx, link, call.conversationId, `twilio:${recordingSid}`, `🎙 Call recording${length}${kept}`, attachments);
    return;
  }
  await ctx.deps.receive({
    channel: 'voice',
    channelLinkId: link.id,
    from: callerAddress({ from: call.fromNumber, callSid }),
    channelMessageId: recordingSid,
    text: `🎙 Voicemail from ${callerOf(call)}${length}${kept}`,
    attachments,
    receivedAt: new Date(),
    threadIds: [callSid],
  });
}

/** POST voice/transcription: the text of a voicemail, an inbound message of the caller (keyword rules apply to it). */
export async function transcription(ctx: TwilioContext, link: WebhookLink, params: WebhookParams): Promise<void> {
  const callSid = param(params, 'CallSid');
  const id = param(params, 'TranscriptionSid') ?? (param(params, 'RecordingSid') ? `${param(params, 'RecordingSid')}:transcription` : undefined);
  if (!callSid || !id) return;
  const call = await getCall(ctx.deps.db, callSid);
  if (!call) {
    ctx.log.warn({ linkId: link.id, callSid }, 'transcription of an unknown call');
    return;
  }
  ctx.count(link.id, 'transcriptions');
  const status = param(params, 'TranscriptionStatus') ?? 'completed';
  const said = (param(params, 'TranscriptionText') ?? '').trim();
  await setCallTranscription(ctx.deps.db, callSid, { text: said || null, status });
  const max = ctx.deps.maxMessageChars - 200;
  const text =
    status === 'completed' && said
      ? `📝 Voicemail transcription: “${said.length > max ? `${said.slice(0, max)}…` : said}”`
      : `📝 The voicemail could not be transcribed (${status}); listen to the recording.`;
  await ctx.deps.receive({
    channel: 'voice',
    channelLinkId: link.id,
    from: callerAddress({ from: call.fromNumber, callSid }),
    channelMessageId: id,
    text,
    receivedAt: new Date(),
    threadIds: [callSid],
  });
}
