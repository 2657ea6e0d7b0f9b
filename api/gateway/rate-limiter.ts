import { LruMap } from "../lru-map.ts";

/**
 * Token buckets, one per key (a client address, an API key id, a token subject): each holds up
 * to `burst` tokens and refills at `perSecond`; a request takes one, and an empty bucket says how
 * long until the next token (the `Retry-After` of a 429). The buckets live in an LRU map of
 * `maxKeys`, so a flood of new addresses costs bounded memory; a forgotten key starts again with
 * a full bucket, which only ever lets an idle client through.
 */
export interface TokenBucketOptions {
  readonly perSecond: number;
  readonly burst: number;
  readonly maxKeys?: number;
  readonly now?: () => number;
}

export type Admission =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly retryAfterMs: number };

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  private readonly buckets: LruMap<string, Bucket>;
  private readonly now: () => number;

  constructor(private readonly options: TokenBucketOptions) {
    if (!(options.perSecond > 0) || !(options.burst >= 1))
      throw new RangeError("a token bucket needs perSecond > 0 and burst >= 1");
    this.buckets = new LruMap(options.maxKeys ?? 10_000);
    this.now = options.now ?? Date.now;
  }

  take(key: string): Admission {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.options.burst, at: now };
    bucket.tokens = Math.min(
      this.options.burst,
      bucket.tokens + ((now - bucket.at) / 1000) * this.options.perSecond,
    );
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterMs: Math.ceil(((1 - bucket.tokens) / this.options.perSecond) * 1000) };
  }

  get size(): number {
    return this.buckets.size;
  }
}
