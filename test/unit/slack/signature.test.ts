import { describe, expect, it } from 'vitest';
import { checkSlackSignature } from '../../../adapters/slack/signature.ts';
import { slackSignature } from '../../support/slack-events.ts';

// Slack's documented example (api.slack.com/authentication/verifying-requests-from-slack).
const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const TIMESTAMP = 1531420618;
const BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const SIGNATURE = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
const AT = TIMESTAMP * 1000 + 10_000;

const check = (headers: Record<string, string>, o: { body?: string; nowMs?: number; secret?: string } = {}) =>
  checkSlackSignature({ signingSecret: o.secret ?? SECRET, rawBody: Buffer.from(o.body ?? BODY), headers, nowMs: o.nowMs ?? AT });

describe('checkSlackSignature', () => {
  it('accepts Slack’s documented example, and our test signer agrees with it', () => {
    expect(slackSignature(SECRET, TIMESTAMP, BODY)).toBe(SIGNATURE);
    expect(check({ 'x-slack-signature': SIGNATURE, 'x-slack-request-timestamp': String(TIMESTAMP) })).toBeNull();
  });

  it('refuses a changed body, another secret, another timestamp', () => {
    const headers = { 'x-slack-signature': SIGNATURE, 'x-slack-request-timestamp': String(TIMESTAMP) };
    expect(check(headers, { body: `${BODY}&x=1` })).toBe('mismatch');
    expect(check(headers, { secret: 'another-signing-secret' })).toBe('mismatch');
    expect(check({ ...headers, 'x-slack-request-timestamp': String(TIMESTAMP + 1) })).toBe('mismatch');
    expect(check({ ...headers, 'x-slack-signature': 'v0=' + '0'.repeat(64) })).toBe('mismatch');
  });

  it('refuses missing or malformed headers', () => {
    expect(check({})).toBe('missing');
    expect(check({ 'x-slack-signature': SIGNATURE })).toBe('missing');
    expect(check({ 'x-slack-request-timestamp': String(TIMESTAMP) })).toBe('missing');
    expect(check({ 'x-slack-signature': SIGNATURE.replace('v0=', 'v1='), 'x-slack-request-timestamp': String(TIMESTAMP) })).toBe('missing');
    expect(check({ 'x-slack-signature': SIGNATURE, 'x-slack-request-timestamp': 'yesterday' })).toBe('missing');
  });

  it('refuses a timestamp more than five minutes off, either way', () => {
    const headers = { 'x-slack-signature': SIGNATURE, 'x-slack-request-timestamp': String(TIMESTAMP) };
    expect(check(headers, { nowMs: TIMESTAMP * 1000 + 300_000 })).toBeNull();
    expect(check(headers, { nowMs: TIMESTAMP * 1000 + 301_000 })).toBe('stale');
    expect(check(headers, { nowMs: TIMESTAMP * 1000 - 300_000 })).toBeNull();
    expect(check(headers, { nowMs: TIMESTAMP * 1000 - 301_000 })).toBe('stale');
  });
});
