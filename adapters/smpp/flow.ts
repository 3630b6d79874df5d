/**
 * Flow control for an SMPP session: a token bucket pacing submits to the
 * link's throughput, and a window bounding requests awaiting a response.
 * Waiters sleep on one timer (bucket) or are woken by a release (window);
 * nothing polls. Both reject their waiters when closed.
 */

/** Thrown to waiters when the bucket or window is closed (the session ended). */
export class FlowClosedError extends Error {
  override readonly name = 'FlowClosedError';
}

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
}

/**
 * `rate` tokens per second, at most `burst` stored. The default burst is a
 * tenth of a second's worth (at least one), so a link limited to 50/s sends
 * at most 5 back to back: SMSCs often count per 100 ms.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closedWith: Error | undefined;
  private readonly burst: number;

  constructor(
    private readonly rate: number,
    burst?: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(rate > 0)) throw new RangeError('rate must be positive');
    this.burst = burst ?? Math.max(1, Math.ceil(rate / 10));
    this.tokens = this.burst;
    this.last = this.now();
  }

  /** Resolves when a token is taken, in arrival order. */
  take(): Promise<void> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    this.refill();
    if (this.waiters.length === 0 && this.tokens >= 1) {
      this.tokens -= 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.schedule();
    });
  }

  /** Rejects every waiter; later takes reject at once. */
  close(err: Error = new FlowClosedError('closed')): void {
    this.closedWith = err;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
  }

  private schedule(): void {
    if (this.timer || this.waiters.length === 0) return;
    const waitMs = Math.max(1, Math.ceil(((1 - this.tokens) / this.rate) * 1000));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refill();
      while (this.waiters.length > 0 && this.tokens >= 1) {
        this.tokens -= 1;
        this.waiters.shift()?.resolve();
      }
      this.schedule();
    }, waitMs);
  }
}

/** A counting semaphore: at most `size` holders; others wait in order. */
export class Window {
  private held = 0;
  private readonly waiters: Waiter[] = [];
  private closedWith: Error | undefined;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError('window size must be a positive integer');
  }

  /** Slots in use. */
  get inUse(): number {
    return this.held;
  }

  /** Resolves once a slot is held; call {@link release} exactly once afterwards. */
  acquire(): Promise<void> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    if (this.held < this.size && this.waiters.length === 0) {
      this.held += 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Frees a slot, handing it to the next waiter if any. */
  release(): void {
    const next = this.closedWith ? undefined : this.waiters.shift();
    if (next) next.resolve();
    else this.held = Math.max(0, this.held - 1);
  }

  /** Rejects every waiter; later acquires reject at once. */
  close(err: Error = new FlowClosedError('closed')): void {
    this.closedWith = err;
    for (const w of this.waiters.splice(0)) w.reject(err);
  }
}
