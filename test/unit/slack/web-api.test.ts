import { webApi } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { mayReceiveToken } from '../../../adapters/slack/files.ts';
import { classifySlackError } from '../../../adapters/slack/web-api.ts';

const platform = (error: string) => new webApi.WebAPIPlatformError({ ok: false, error });

describe('classifySlackError', () => {
  it.each(['channel_not_found', 'not_in_channel', 'is_archived', 'msg_too_long', 'restricted_action', 'some_new_error'])('takes %s as a refusal that would recur', (code) => {
    expect(classifySlackError(platform(code))).toEqual({ code, message: code, retryable: false, auth: false });
  });

  it.each(['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'missing_scope'])('takes %s as permanent and the link’s token as unusable', (code) => {
    expect(classifySlackError(platform(code))).toMatchObject({ code, retryable: false, auth: true });
  });

  it.each(['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout'])('retries %s', (code) => {
    expect(classifySlackError(platform(code))).toMatchObject({ code, retryable: true, auth: false });
  });

  it('retries a 429 after its Retry-After', () => {
    expect(classifySlackError(new webApi.WebAPIRateLimitedError(30))).toMatchObject({ code: 'rate_limited', retryable: true, retryAfterMs: 30_000 });
  });

  it('retries 5xx answers, timeouts and network errors; not other HTTP errors', () => {
    expect(classifySlackError(new webApi.WebAPIHTTPError(503, 'Service Unavailable', {}, ''))).toMatchObject({ code: 'http_503', retryable: true });
    expect(classifySlackError(new webApi.WebAPIHTTPError(500, 'Internal Server Error', {}, ''))).toMatchObject({ retryable: true });
    expect(classifySlackError(new webApi.WebAPIHTTPError(404, 'Not Found', {}, ''))).toMatchObject({ code: 'http_404', retryable: false });
    expect(classifySlackError(new webApi.WebAPIRequestError(new Error('connect ECONNREFUSED 127.0.0.1:1')))).toMatchObject({
      code: 'request_failed',
      retryable: true,
      message: expect.stringContaining('ECONNREFUSED'),
    });
    expect(classifySlackError(new Error('Retry header did not contain a valid timeout'))).toMatchObject({ retryable: true });
  });
});

describe('mayReceiveToken', () => {
  it('sends the bot token only to Slack over HTTPS or to the configured API’s origin', () => {
    const api = 'https://slack.com/api/';
    expect(mayReceiveToken('https://files.slack.com/files-pri/T1-F1/download/a.jpg', api)).toBe(true);
    expect(mayReceiveToken('http://files.slack.com/files-pri/T1-F1/a.jpg', api)).toBe(false);
    expect(mayReceiveToken('https://files.slack.com.evil.example/a.jpg', api)).toBe(false);
    expect(mayReceiveToken('https://evilslack.com/a.jpg', api)).toBe(false);
    expect(mayReceiveToken('https://drive.example/a.jpg', api)).toBe(false);
    expect(mayReceiveToken('not a url', api)).toBe(false);
    expect(mayReceiveToken('http://127.0.0.1:4000/files/a.jpg', 'http://127.0.0.1:4000/api/')).toBe(true);
    expect(mayReceiveToken('http://127.0.0.1:4001/files/a.jpg', 'http://127.0.0.1:4000/api/')).toBe(false);
  });
});
