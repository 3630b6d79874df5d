/**
 * The TwiML documents the voice and SMS webhooks answer with, and the
 * webhook URLs they name. Pure: settings and URLs in, XML out (built with
 * the twilio library's own TwiML builders, which escape every text).
 */
import twilio from 'twilio';
import type VoiceResponseTypes from 'twilio/lib/twiml/VoiceResponse.js';
import type { VoiceSettings } from './config.ts';

const { VoiceResponse, MessagingResponse } = twilio.twiml;

/** The webhook URLs of one link, as Twilio is told to call them (public base URL first). */
export interface WebhookUrls {
  sms: string;
  /** Status callback of one reply; the message id rides in the (signed) URL. */
  smsStatus(messageId: number): string;
  voice: string;
  voiceStatus: string;
  dialResult: string;
  queueResult: string;
  queueWait: string;
  callRecording: string;
  voicemailRecording: string;
  transcription: string;
  voicemailDone: string;
}

/** Where a link's webhooks live under the gateway: `/webhooks/twilio/<linkId>/…`. */
export const webhookPath = (linkId: string, route: string): string => `/webhooks/twilio/${linkId}/${route}`;

export function webhookUrls(publicBaseUrl: string, linkId: string): WebhookUrls {
  const url = (route: string) => `${publicBaseUrl}${webhookPath(linkId, route)}`;
  return {
    sms: url('sms'),
    smsStatus: (messageId) => `${url('sms/status')}?m=${messageId}`,
    voice: url('voice'),
    voiceStatus: url('voice/status'),
    dialResult: url('voice/dial-result'),
    queueResult: url('voice/queue-result'),
    queueWait: url('voice/queue-wait'),
    callRecording: `${url('voice/recording')}?kind=call`,
    voicemailRecording: `${url('voice/recording')}?kind=voicemail`,
    transcription: url('voice/transcription'),
    voicemailDone: url('voice/done'),
  };
}

const sayAttributes = (voice: VoiceSettings) => ({ language: voice.language as VoiceResponseTypes.SayAttributes['language'] });

/**
 * The answer to an incoming call: recording started when configured, the
 * greeting, then the caller rings `dialNumber` or waits in the queue. Either
 * way Twilio reports the result to the dial or queue result URL.
 */
export function answerCall(voice: VoiceSettings, urls: WebhookUrls): string {
  const response = new VoiceResponse();
  if (voice.record) {
    response.start().recording({ recordingStatusCallback: urls.callRecording, recordingStatusCallbackEvent: ['completed'], channels: 'dual' });
  }
  response.say(sayAttributes(voice), voice.greeting);
  if (voice.mode === 'dial' && voice.dialNumber) {
    const dial = response.dial({ action: urls.dialResult, method: 'POST', timeout: voice.ringTimeoutSeconds });
    if (voice.dialNumber.startsWith('sip:')) dial.sip(voice.dialNumber);
    else dial.number(voice.dialNumber);
  } else {
    response.enqueue({ action: urls.queueResult, method: 'POST', waitUrl: urls.queueWait, waitUrlMethod: 'POST' }, voice.queueName);
  }
  return response.toString();
}

/**
 * What a caller nobody answered hears: that they will be called back, then
 * (with `transcribe`) a prompt and a recorded, transcribed message.
 */
export function noAnswer(voice: VoiceSettings, urls: WebhookUrls): string {
  const response = new VoiceResponse();
  response.say(sayAttributes(voice), voice.noAnswerMessage);
  if (voice.transcribe) {
    response.say(sayAttributes(voice), voice.voicemailPrompt);
    response.record({
      action: urls.voicemailDone,
      method: 'POST',
      maxLength: voice.maxVoicemailSeconds,
      playBeep: true,
      transcribe: true,
      transcribeCallback: urls.transcription,
      recordingStatusCallback: urls.voicemailRecording,
      recordingStatusCallbackEvent: ['completed'],
    });
  }
  response.hangup();
  return response.toString();
}

/**
 * What a caller waiting in the queue hears, fetched again by Twilio each time
 * it ends: the hold message and a pause, until `ringTimeoutSeconds` have
 * passed; then the caller leaves the queue (result `leave`: the no-answer path).
 */
export function queueWait(voice: VoiceSettings, queueTimeSeconds: number): string {
  const response = new VoiceResponse();
  const remaining = voice.ringTimeoutSeconds - queueTimeSeconds;
  if (remaining <= 0) {
    response.leave();
  } else {
    response.say(sayAttributes(voice), voice.holdMessage);
    response.pause({ length: Math.min(remaining, 15) });
  }
  return response.toString();
}

/** Ends the call (after an answered call, or once a voicemail is recorded). */
export function hangUp(): string {
  const response = new VoiceResponse();
  response.hangup();
  return response.toString();
}

/** The answer to an incoming SMS: nothing is sent back automatically (call-takers answer). */
export function emptyMessagingResponse(): string {
  return new MessagingResponse().toString();
}
