/**
 * Twilio's REST API, through the twilio library: the account check, sending
 * an SMS, and fetching media and recordings Twilio hosts (with the account's
 * credentials, only from the API's own origin, under a size cap).
 *
 * `apiBaseUrl` points the library at another API host (a regional proxy, a
 * test double) through its supported extension point, a custom `httpClient`.
 */
import twilio from 'twilio';
import type RequestClientTypes from 'twilio/lib/base/RequestClient.js';
import { ChannelSendError } from '../../src/errors.ts';
import { describeErrorCode } from './normalise.ts';

/** Twilio's API origin; REST calls and media fetches go here unless `apiBaseUrl` says otherwise. */
export const TWILIO_API_BASE_URL = 'https://api.twilio.com';

/** Requests the library makes, sent to `base` instead of the host it names (path and query kept). */
class BaseUrlRequestClient extends twilio.RequestClient {
  private readonly base: URL;

  constructor(base: string, options: RequestClientTypes.RequestClientOptions) {
    super(options);
    this.base = new URL(base);
  }

  override request<TData>(opts: RequestClientTypes.RequestOptions<TData>) {
    const target = new URL(opts.uri);
    const rewritten = new URL(`${this.base.pathname.replace(/\/+$/, '')}${target.pathname}${target.search}`, this.base.origin);
    return super.request({ ...opts, uri: rewritten.href });
  }
}

export type TwilioClient = ReturnType<typeof twilio>;

export interface RestOptions {
  /** Where the REST API is (default Twilio's). */
  apiBaseUrl?: string;
  /** Per-request timeout. */
  timeoutMs?: number;
}

/** A REST client for one account. */
export function createRestClient(accountSid: string, authToken: string, options: RestOptions = {}): TwilioClient {
  const timeout = options.timeoutMs ?? 15_000;
  const base = options.apiBaseUrl ?? TWILIO_API_BASE_URL;
  return twilio(accountSid, authToken, {
    timeout,
    autoRetry: false,
    ...(base === TWILIO_API_BASE_URL ? {} : { httpClient: new BaseUrlRequestClient(base, { timeout, autoRetry: false }) }),
  });
}

/** The fields of a Twilio REST error the gateway looks at. */
interface RestErrorLike {
  status?: number;
  code?: number | string;
  message?: string;
}

/**
 * A REST failure as a ChannelSendError: the request itself is wrong (an
 * invalid or opted-out number, any other 4xx) → permanent; throttling (429),
 * Twilio's own failures (5xx), authentication (a token being rotated) and the
 * network → retried.
 */
export function toSendError(err: unknown): ChannelSendError {
  const e = (err ?? {}) as RestErrorLike;
  const status = typeof e.status === 'number' ? e.status : undefined;
  const described = describeErrorCode(e.code);
  const text = `Twilio${status ? ` ${status}` : ''}${described ? ` (${described})` : ''}: ${e.message ?? String(err)}`;
  const retryable = status === undefined || status === 401 || status === 429 || status >= 500;
  return new ChannelSendError(text, { retryable, cause: err });
}

/** Whether a send failed because Twilio refused the account's credentials (the link shows down). */
export function isAuthFailure(err: unknown): boolean {
  return err instanceof ChannelSendError && (err.cause as RestErrorLike | undefined)?.status === 401;
}

export interface SmsRequest {
  to: string;
  /** A number of the account, or (absent) the messaging service sends. */
  from?: string;
  messagingServiceSid?: string;
  body: string;
  statusCallback: string;
}

/** Sends one SMS; resolves with Twilio's MessageSid and status. @throws ChannelSendError */
export async function sendSms(client: TwilioClient, request: SmsRequest): Promise<{ sid: string; status: string }> {
  try {
    const message = await client.messages.create({
      to: request.to,
      body: request.body,
      statusCallback: request.statusCallback,
      ...(request.from ? { from: request.from } : { messagingServiceSid: request.messagingServiceSid as string }),
    });
    return { sid: message.sid, status: message.status };
  } catch (err) {
    throw toSendError(err);
  }
}

/** Checks the account's credentials: resolves, or rejects with what Twilio said. */
export async function checkAccount(client: TwilioClient, accountSid: string): Promise<void> {
  try {
    await client.api.v2010.accounts(accountSid).fetch();
  } catch (err) {
    const e = toSendError(err);
    throw new Error(e.message, { cause: err });
  }
}

/** A file Twilio hosts, fetched. */
export interface Fetched {
  content: Buffer;
  contentType: string;
}

/** Why a file was not fetched, said to the agent. */
export class FetchRefused extends Error {}

/**
 * Fetches a file Twilio hosts (MMS media, a recording) with the account's
 * credentials. Only URLs on the API's own origin get them; a redirect to
 * another origin (Twilio's media storage) is followed without them. Larger
 * than `maxBytes` or slower than `timeoutMs`: refused.
 */
export async function fetchTwilioFile(
  url: string,
  o: { accountSid: string; authToken: string; apiBaseUrl?: string; maxBytes: number; timeoutMs?: number },
): Promise<Fetched> {
  const apiOrigin = new URL(o.apiBaseUrl ?? TWILIO_API_BASE_URL).origin;
  let target = new URL(url);
  if (target.origin !== apiOrigin) throw new FetchRefused(`not fetched: ${target.origin} is not the Twilio API`);
  const signal = AbortSignal.timeout(o.timeoutMs ?? 10_000);
  const authorization = `Basic ${Buffer.from(`${o.accountSid}:${o.authToken}`).toString('base64')}`;
  for (let hop = 0; hop < 4; hop++) {
    const res = await fetch(target, {
      redirect: 'manual',
      signal,
      headers: target.origin === apiOrigin ? { authorization } : {},
    });
    if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
      await res.body?.cancel();
      target = new URL(res.headers.get('location') as string, target);
      if (target.protocol !== 'https:' && apiOrigin.startsWith('https:')) throw new FetchRefused('not fetched: redirected from https to a plain http URL');
      continue;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new FetchRefused(`not fetched: HTTP ${res.status}`);
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > o.maxBytes) {
      await res.body?.cancel();
      throw new FetchRefused(`not kept: ${declared} bytes is over the ${o.maxBytes}-byte limit`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const reader = res.body?.getReader();
    for (let part = await reader?.read(); reader && part && !part.done; part = await reader.read()) {
      size += part.value.length;
      if (size > o.maxBytes) {
        await reader.cancel();
        throw new FetchRefused(`not kept: over the ${o.maxBytes}-byte limit`);
      }
      chunks.push(Buffer.from(part.value));
    }
    return { content: Buffer.concat(chunks), contentType: res.headers.get('content-type') ?? 'application/octet-stream' };
  }
  throw new FetchRefused('not fetched: too many redirects');
}
