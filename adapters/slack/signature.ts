/**
 * Slack request signing (v0): `X-Slack-Signature` is `v0=` + the hex
 * HMAC-SHA256, keyed with the app's signing secret, of
 * `v0:<X-Slack-Request-Timestamp>:<raw body>`. Bolt's `verifySlackRequest`
 * checks the HMAC (in constant time) and a timestamp older than five minutes;
 * this adds the checks it leaves out: both headers present and well formed,
 * and a timestamp more than five minutes in the future (a replay window is a
 * window both ways).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { verifySlackRequest } from '@slack/bolt';

/** Why a request is refused: no or malformed headers, a timestamp outside the window, a wrong signature. */
export type SignatureProblem = 'missing' | 'stale' | 'mismatch';

/** Slack's window: a request signed more than this long ago (or ahead) is refused. */
export const MAX_SKEW_SECONDS = 5 * 60;

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Checks a request's Slack signature; null when it is Slack's, else what is wrong. */
export function checkSlackSignature(input: { signingSecret: string; rawBody: Buffer; headers: IncomingHttpHeaders; nowMs?: number }): SignatureProblem | null {
  const signature = header(input.headers, 'x-slack-signature');
  const timestamp = header(input.headers, 'x-slack-request-timestamp');
  if (!signature || !timestamp || !/^\d{1,12}$/.test(timestamp) || !signature.startsWith('v0=')) return 'missing';
  const nowMs = input.nowMs ?? Date.now();
  const seconds = Number(timestamp);
  if (Math.abs(Math.floor(nowMs / 1000) - seconds) > MAX_SKEW_SECONDS) return 'stale';
  try {
    verifySlackRequest({
      signingSecret: input.signingSecret,
      body: input.rawBody.toString('utf8'),
      headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': seconds },
      nowMilliseconds: nowMs,
    });
    return null;
  } catch {
    return 'mismatch';
  }
}
