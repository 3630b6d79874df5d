/**
 * Twilio's statuses as the gateway reads them: message status callbacks as
 * delivery statuses, call statuses that only move forward, dial and queue
 * results, withheld callers.
 */
import { describe, expect, it } from 'vitest';
import {
  callerAddress,
  callStatusRank,
  deliveryFromMessageStatus,
  dialAnswered,
  isTerminalCallStatus,
  isWithheld,
  mediaName,
  parseSmsWebhook,
  queueOutcome,
} from '../../../adapters/twilio/normalise.ts';
import { isAuthFailure, toSendError } from '../../../adapters/twilio/rest.ts';
import { ValidationError } from '../../../src/errors.ts';

describe('message status callbacks', () => {
  it.each([
    ['accepted', undefined, { status: 'queued', error: null }],
    ['queued', undefined, { status: 'queued', error: null }],
    ['sending', undefined, { status: 'queued', error: null }],
    ['sent', undefined, { status: 'sent', error: null }],
    ['delivered', undefined, { status: 'delivered', error: null }],
    ['read', undefined, { status: 'delivered', error: null }],
    ['undelivered', '30003', { status: 'failed', error: 'undelivered: 30003 unreachable destination handset' }],
    ['undelivered', undefined, { status: 'failed', error: 'undelivered' }],
    ['failed', '30008', { status: 'failed', error: 'failed: 30008 unknown error' }],
    ['failed', '63016', { status: 'failed', error: 'failed: 63016' }],
    ['canceled', undefined, { status: 'failed', error: 'canceled' }],
  ] as const)('maps %s (error %s)', (status, code, expected) => {
    expect(deliveryFromMessageStatus(status, code)).toEqual(expected);
  });

  it('ignores statuses that say nothing about delivery', () => {
    expect(deliveryFromMessageStatus('receiving')).toBeNull();
    expect(deliveryFromMessageStatus(undefined)).toBeNull();
  });
});

describe('calls', () => {
  it('ranks statuses so that a late ringing callback never undoes completed', () => {
    expect(callStatusRank('ringing')).toBeLessThan(callStatusRank('in-progress'));
    expect(callStatusRank('in-progress')).toBeLessThan(callStatusRank('completed'));
    for (const s of ['completed', 'busy', 'no-answer', 'failed', 'canceled'] as const) expect(isTerminalCallStatus(s)).toBe(true);
    expect(isTerminalCallStatus('in-progress')).toBe(false);
  });

  it('reads dial and queue results', () => {
    expect(dialAnswered('completed')).toBe(true);
    expect(dialAnswered('answered')).toBe(true);
    for (const s of ['no-answer', 'busy', 'failed', 'canceled', undefined]) expect(dialAnswered(s)).toBe(false);
    expect(queueOutcome('bridged')).toBe('answered');
    expect(queueOutcome('hangup')).toBe('hung-up');
    expect(queueOutcome('leave')).toBe('not-answered');
    expect(queueOutcome('queue-full')).toBe('not-answered');
    expect(queueOutcome('redirected')).toBe('redirected');
  });

  it('files each withheld caller apart, and numbers as they are', () => {
    for (const from of ['anonymous', 'Restricted', '+266696687', '']) expect(isWithheld(from)).toBe(true);
    expect(isWithheld('+15550102030')).toBe(false);
    expect(callerAddress({ from: 'anonymous', callSid: 'CA1' })).toBe('withheld:CA1');
    expect(callerAddress({ from: '+15550102030', callSid: 'CA1' })).toBe('+15550102030');
  });
});

describe('incoming texts', () => {
  const base = { MessageSid: `SM${'1'.repeat(32)}`, AccountSid: `AC${'2'.repeat(32)}`, From: '+15550102030', To: '+15550100911' };

  it('reads the body and the media list', () => {
    const sms = parseSmsWebhook({ ...base, Body: 'help', NumMedia: '2', MediaUrl0: 'https://a/0', MediaContentType0: 'image/JPEG', MediaUrl1: 'https://a/1' });
    expect(sms).toMatchObject({ sid: base.MessageSid, from: '+15550102030', to: '+15550100911', body: 'help' });
    expect(sms.media).toEqual([
      { url: 'https://a/0', contentType: 'image/jpeg' },
      { url: 'https://a/1', contentType: 'application/octet-stream' },
    ]);
    expect(mediaName('image/jpeg', 0)).toBe('media-1.jpg');
    expect(mediaName('application/x-unknown', 1)).toBe('media-2.bin');
  });

  it('names the parameter that is missing or malformed', () => {
    const field = (params: Record<string, string>) => {
      try {
        parseSmsWebhook(params);
      } catch (err) {
        return err instanceof ValidationError ? err.field : 'other';
      }
      return undefined;
    };
    expect(field({ ...base, MessageSid: 'SM1' })).toBe('MessageSid');
    expect(field({ ...base, From: '' })).toBe('From');
    expect(field({ ...base, NumMedia: '1' })).toBe('MediaUrl0');
  });
});

describe('REST errors', () => {
  it('makes request errors permanent and throttling, outages, authentication and the network retryable', () => {
    const invalid = toSendError({ status: 400, code: 21211, message: "The 'To' number is not a valid phone number." });
    expect(invalid.retryable).toBe(false);
    expect(invalid.message).toContain("21211 invalid 'To' number");
    expect(toSendError({ status: 400, code: 21610, message: 'unsubscribed' }).retryable).toBe(false);
    expect(toSendError({ status: 429, code: 20429, message: 'Too Many Requests' }).retryable).toBe(true);
    expect(toSendError({ status: 503, message: 'Service Unavailable' }).retryable).toBe(true);
    expect(toSendError({ status: 401, code: 20003, message: 'Authenticate' }).retryable).toBe(true);
    expect(toSendError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })).retryable).toBe(true);
    expect(isAuthFailure(toSendError({ status: 401, code: 20003, message: 'Authenticate' }))).toBe(true);
    expect(isAuthFailure(toSendError({ status: 400, code: 21211, message: 'invalid' }))).toBe(false);
  });
});
