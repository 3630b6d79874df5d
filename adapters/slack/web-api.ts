/**
 * The Slack Web API as a link uses it: @slack/web-api's WebClient (through
 * bolt) pointed at the link's `apiUrl`, with the library's own retries off
 * (the outbound queue retries, with backoff, and shows the outcome to the
 * agent) and rate-limited calls rejected rather than silently waited out.
 * Its failures are sorted here into permanent and retryable ones.
 */
import { webApi } from '@slack/bolt';
import type { Logger } from '../../src/log.ts';
import type { SlackSecrets, SlackSettings } from './config.ts';

export type SlackClient = InstanceType<typeof webApi.WebClient>;

/** Slack's Web API time limit per call. */
const CALL_TIMEOUT_MS = 10_000;

/** The library's log lines into pino; its debug lines (request bodies: citizens' words) are dropped. */
function slackLogger(log: Logger): webApi.Logger {
  const line = (parts: unknown[]) => parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(' ');
  return {
    debug: () => undefined,
    info: (...m: unknown[]) => log.info(line(m)),
    warn: (...m: unknown[]) => log.warn(line(m)),
    error: (...m: unknown[]) => log.error(line(m)),
    setLevel: () => undefined,
    getLevel: () => webApi.LogLevel.INFO,
    setName: () => undefined,
  };
}

/** A Web API client for one link: its bot token, its API URL. */
export function createSlackClient(settings: Pick<SlackSettings, 'apiUrl'>, secrets: Pick<SlackSecrets, 'botToken'>, log: Logger): SlackClient {
  return new webApi.WebClient(secrets.botToken, {
    slackApiUrl: settings.apiUrl,
    // Only the configured API: a method name can never send the token elsewhere.
    allowAbsoluteUrls: false,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: CALL_TIMEOUT_MS,
    logger: slackLogger(log.child({ component: 'slack-web-api' })),
  });
}

/** Slack errors that mean the app's token or installation is unusable: the link is down until fixed. */
const AUTH_ERRORS = new Set(['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired', 'missing_scope', 'no_permission', 'team_access_not_granted']);
/** Slack errors worth trying again; any other error Slack answers is a refusal that would recur. */
const RETRYABLE_ERRORS = new Set(['ratelimited', 'rate_limited', 'service_unavailable', 'internal_error', 'fatal_error', 'request_timeout', 'team_added_to_org']);

/** A Web API failure, sorted. */
export interface SlackFailure {
  /** Slack's error code (`channel_not_found`), `http_<status>`, `rate_limited` or `request_failed`. */
  code: string;
  message: string;
  retryable: boolean;
  /** The token or installation is unusable (the link shows down). */
  auth: boolean;
  /** How long Slack asked us to wait (Retry-After), when it did. */
  retryAfterMs?: number;
}

/**
 * Sorts a WebClient failure: Slack's refusals (`channel_not_found`,
 * `not_in_channel`, `invalid_auth`…) are permanent; rate limiting (429 with
 * Retry-After), 5xx answers, timeouts and network errors are retryable.
 */
export function classifySlackError(err: unknown): SlackFailure {
  const e = err as { code?: string; data?: { error?: string }; retryAfter?: number; statusCode?: number; original?: Error; message?: string };
  switch (e?.code) {
    case webApi.ErrorCode.PlatformError: {
      const code = e.data?.error ?? 'unknown_error';
      return { code, message: code, retryable: RETRYABLE_ERRORS.has(code), auth: AUTH_ERRORS.has(code) };
    }
    case webApi.ErrorCode.RateLimitedError: {
      const seconds = typeof e.retryAfter === 'number' && e.retryAfter >= 0 ? e.retryAfter : 1;
      return { code: 'rate_limited', message: `rate limited (retry after ${seconds} s)`, retryable: true, auth: false, retryAfterMs: seconds * 1000 };
    }
    case webApi.ErrorCode.HTTPError: {
      const status = e.statusCode ?? 0;
      const retryable = status >= 500 || status === 408 || status === 429;
      return { code: `http_${status}`, message: `HTTP ${status} from the Web API`, retryable, auth: false };
    }
    case webApi.ErrorCode.RequestError:
      return { code: 'request_failed', message: `request failed: ${e.original?.message ?? e.message ?? 'unknown'}`, retryable: true, auth: false };
    default:
      // A 429 without a usable Retry-After, an abort: nothing says it would fail again.
      return { code: 'request_failed', message: err instanceof Error ? err.message : String(err), retryable: true, auth: false };
  }
}
