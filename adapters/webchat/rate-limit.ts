/** A token bucket: `burst` at once, refilled at `perSecond`. */
export function createRateLimiter(options: { perSecond: number; burst: number }) {
  let tokens = options.burst;
  let last = Date.now();
  return {
    take(): boolean {
      const now = Date.now();
      tokens = Math.min(options.burst, tokens + ((now - last) / 1000) * options.perSecond);
      last = now;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
}
