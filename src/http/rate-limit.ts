/**
 * Rate limits for public endpoints (login first): a token bucket per key
 * (an IP address, a username), in memory. Each process limits on its own,
 * which bounds guessing per process; it is not a quota.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AppError } from '../errors.ts';

/** `burst` attempts at once, refilled at `perMinute`. */
export interface RateLimit {
  burst: number;
  perMinute: number;
}

/** Refused: too many attempts; `retryAfterSeconds` until the next one is allowed. */
export class RateLimitedError extends AppError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super('rate_limited', message, { status: 429 });
  }
}

/** Token buckets by key. Full buckets are forgotten, so memory follows recent traffic only. */
export class KeyedRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 100_000,
  ) {}

  /** Takes one token for `key`: 0 when allowed, else the seconds until a token is back. */
  take(key: string): number {
    const now = this.now();
    const perMs = this.limit.perMinute / 60_000;
    const bucket = this.buckets.get(key);
    const tokens = bucket ? Math.min(this.limit.burst, bucket.tokens + (now - bucket.at) * perMs) : this.limit.burst;
    if (tokens < 1) {
      this.buckets.set(key, { tokens, at: now });
      return Math.max(1, Math.ceil((1 - tokens) / perMs / 1000));
    }
    if (!bucket && this.buckets.size >= this.maxKeys) this.sweep(now);
    this.buckets.set(key, { tokens: tokens - 1, at: now });
    return 0;
  }

  /** The seconds until `key` has a token again (0: it has one now); takes nothing. */
  peek(key: string): number {
    const bucket = this.buckets.get(key);
    if (!bucket) return 0;
    const perMs = this.limit.perMinute / 60_000;
    const tokens = Math.min(this.limit.burst, bucket.tokens + (this.now() - bucket.at) * perMs);
    return tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - tokens) / perMs / 1000));
  }

  /** Drops buckets that have refilled (they would start full anyway). */
  private sweep(now: number): void {
    const perMs = this.limit.perMinute / 60_000;
    for (const [key, b] of this.buckets) if (b.tokens + (now - b.at) * perMs >= this.limit.burst) this.buckets.delete(key);
    // Still full of live buckets: an attack from many keys; start over rather than grow without bound.
    if (this.buckets.size >= this.maxKeys) this.buckets.clear();
  }
}

/**
 * Express middleware: one token per request from each limiter for the key
 * it computes (a key of undefined is not limited); refused with 429, a
 * `Retry-After` header and the JSON error.
 */
export function rateLimit(limits: Array<{ limiter: KeyedRateLimiter; key: (req: Request) => string | undefined; what: string }>): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    for (const { limiter, key, what } of limits) {
      const k = key(req);
      if (k === undefined) continue;
      const wait = limiter.take(k);
      if (wait > 0) {
        res.set('Retry-After', String(wait));
        throw new RateLimitedError(`too many attempts from this ${what}; try again in ${wait} s`, wait);
      }
    }
    next();
  };
}
