/**
 * A fixed-window request limit per API key, as Alpaca applies it to the data API (200 requests a
 * minute on the free plan): the answer says whether a request may pass, and the headers Alpaca
 * sends (`X-RateLimit-Limit`, `-Remaining`, `-Reset` in epoch seconds).
 */
export interface RateLimitVerdict {
  readonly allowed: boolean;
  readonly limit: number;
  readonly remaining: number;
  readonly resetAt: number;
}

export class FixedWindowLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly maxRequests: number,
    private readonly intervalMs: number,
  ) {}

  take(key: string, now: number): RateLimitVerdict {
    let window = this.windows.get(key);
    if (!window || now - window.start >= this.intervalMs) {
      window = { start: now, count: 0 };
      this.windows.set(key, window);
      // bounded: keys whose windows ended are forgotten
      if (this.windows.size > 10_000)
        for (const [k, w] of this.windows) if (now - w.start >= this.intervalMs) this.windows.delete(k);
    }
    const allowed = window.count < this.maxRequests;
    if (allowed) window.count++;
    return {
      allowed,
      limit: this.maxRequests,
      remaining: Math.max(0, this.maxRequests - window.count),
      resetAt: window.start + this.intervalMs,
    };
  }
}
