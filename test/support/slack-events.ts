/**
 * Slack's side of the Events API for tests: payloads shaped like the ones
 * Slack posts, signed the way Slack signs them (v0: HMAC-SHA256 of
 * `v0:<timestamp>:<raw body>` with the app's signing secret), posted to a
 * gateway's events URL.
 */
import { createHmac } from 'node:crypto';

/** `v0=<hex>` for a raw body signed at `timestamp` (Unix seconds). */
export function slackSignature(signingSecret: string, timestamp: number, rawBody: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
}

export interface PostOptions {
  /** Unix seconds the request is signed at (default now). */
  timestamp?: number;
  /** Signs with this secret instead (a forger's). */
  secret?: string;
  /** Sends no signature headers at all. */
  unsigned?: boolean;
  /** X-Slack-Retry-Num, as Slack sets it on a retry. */
  retryNum?: number;
}

/** Posts an event the way Slack does; returns the status, the body and how long the answer took. */
export async function postSlackEvent(
  url: string,
  signingSecret: string,
  payload: unknown,
  o: PostOptions = {},
): Promise<{ status: number; body: string; ms: number; headers: Headers }> {
  const raw = JSON.stringify(payload);
  const timestamp = o.timestamp ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)' };
  if (!o.unsigned) {
    headers['x-slack-request-timestamp'] = String(timestamp);
    headers['x-slack-signature'] = slackSignature(o.secret ?? signingSecret, timestamp, raw);
  }
  if (o.retryNum !== undefined) {
    headers['x-slack-retry-num'] = String(o.retryNum);
    headers['x-slack-retry-reason'] = 'http_timeout';
  }
  const started = Date.now();
  const res = await fetch(url, { method: 'POST', headers, body: raw });
  const body = await res.text();
  return { status: res.status, body, ms: Date.now() - started, headers: res.headers };
}

let seq = 0;
/** A fresh Slack message ts (`seconds.micro`), unique within the test run. */
export function slackTs(): string {
  seq += 1;
  return `${Math.floor(Date.now() / 1000)}.${String(100000 + seq).padStart(6, '0')}`;
}

/** An `event_callback` envelope around `event`, from `team`. */
export function eventCallback(event: Record<string, unknown>, o: { team?: string; botUserId?: string; eventId?: string } = {}): Record<string, unknown> {
  seq += 1;
  return {
    token: 'deprecated-verification-token',
    team_id: o.team ?? 'T0FAKETEAM',
    api_app_id: 'A0LIFELINE',
    event,
    type: 'event_callback',
    event_id: o.eventId ?? `Ev${String(seq).padStart(9, '0')}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ enterprise_id: null, team_id: o.team ?? 'T0FAKETEAM', user_id: o.botUserId ?? 'U0LIFELINE', is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
  };
}

/** A citizen's message event (a direct message to the app unless `channel_type` says otherwise). */
export function messageEvent(o: { user: string; text: string; channel?: string; channelType?: string; ts?: string; threadTs?: string; team?: string; extra?: Record<string, unknown> }): Record<string, unknown> {
  const ts = o.ts ?? slackTs();
  return {
    type: 'message',
    user: o.user,
    text: o.text,
    ts,
    team: o.team ?? 'T0FAKETEAM',
    channel: o.channel ?? 'D0CITIZEN1',
    event_ts: ts,
    channel_type: o.channelType ?? 'im',
    ...(o.threadTs ? { thread_ts: o.threadTs } : {}),
    ...o.extra,
  };
}
