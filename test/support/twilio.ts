/**
 * Twilio webhooks as Twilio sends them: form-encoded POSTs signed with the
 * twilio library's own helper (`getExpectedTwilioSignature`) over the URL
 * Twilio was configured with (the link's public base URL, not the address
 * the test reaches the gateway at), and a link created through the API.
 */
import twilio from 'twilio';
import { api } from './gateway.ts';
import type { FakeTwilio } from './fake-twilio.ts';

/** The public URL the tests' links claim; requests still go to the gateway's real address. */
export const PUBLIC_BASE_URL = 'https://psap.example.test/lifeline';
/** The PSAP's Twilio numbers. */
export const PSAP_NUMBERS = ['+15550100911', '+15550100912'];

export interface TwilioLinkRef {
  id: string;
  accountSid: string;
  authToken: string;
  publicBaseUrl: string;
}

/** Creates a Twilio link through the admin API; `voice` and other settings override the defaults. */
export async function createTwilioLink(
  gw: { url: string },
  admin: string,
  fake: Pick<FakeTwilio, 'accountSid' | 'authToken'>,
  name: string,
  settings: Record<string, unknown> = {},
): Promise<TwilioLinkRef> {
  const res = await api<{ link: { id: string } }>(gw, 'POST', '/api/links', {
    token: admin,
    body: {
      channel: 'twilio',
      name,
      settings: { accountSid: fake.accountSid, phoneNumbers: PSAP_NUMBERS, publicBaseUrl: PUBLIC_BASE_URL, ...settings },
      secrets: { authToken: fake.authToken },
    },
  });
  if (res.status !== 201) throw new Error(`creating the Twilio link: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.link.id, accountSid: fake.accountSid, authToken: fake.authToken, publicBaseUrl: PUBLIC_BASE_URL };
}

export interface WebhookAnswer {
  status: number;
  type: string;
  text: string;
}

/**
 * POSTs a webhook to `route` of the link (`sms`, `voice/status?…`), signed
 * as Twilio would sign it unless `signature` says otherwise (null: no header).
 */
export async function postWebhook(
  gw: { url: string },
  link: Pick<TwilioLinkRef, 'id' | 'authToken' | 'publicBaseUrl'>,
  route: string,
  params: Record<string, string>,
  o: { signature?: string | null; signWith?: { authToken?: string; url?: string; params?: Record<string, string> } } = {},
): Promise<WebhookAnswer> {
  const path = `/webhooks/twilio/${link.id}/${route}`;
  const signature =
    o.signature !== undefined
      ? o.signature
      : twilio.getExpectedTwilioSignature(o.signWith?.authToken ?? link.authToken, o.signWith?.url ?? `${link.publicBaseUrl}${path}`, o.signWith?.params ?? params);
  const res = await fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(signature !== null ? { 'x-twilio-signature': signature } : {}) },
    body: new URLSearchParams(params),
  });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

/** The parameters Twilio sends with every voice webhook of a call. */
export const callParams = (call: { sid: string; accountSid: string; from: string; to?: string }, extra: Record<string, string> = {}) => ({
  CallSid: call.sid,
  AccountSid: call.accountSid,
  From: call.from,
  To: call.to ?? PSAP_NUMBERS[0]!,
  Direction: 'inbound',
  ApiVersion: '2010-04-01',
  ...extra,
});
