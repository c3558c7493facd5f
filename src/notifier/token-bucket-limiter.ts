import type { RateLimit } from './notifier-config.ts';

interface Bucket {
  tokens: number;
  updatedAt: number;
  blockedUntil: number;
}

/** Most destinations remembered at once; the longest-idle ones are forgotten first (they are full anyway). */
const MAX_BUCKETS = 10_000;

/**
 * A token bucket per destination key (a webhook origin, the SMTP server), in this process:
 * `perSecond` tokens a second, at most `burst` saved up. A destination may also be blocked for a
 * while (a 429 with `Retry-After`). Several processes each keep their own buckets, so the rate a
 * receiver sees is at most this rate times the number of notifier processes.
 */
export class TokenBucketLimiter {
  private readonly perSecond: number;
  private readonly burst: number;
  private readonly now: () => number;
  private readonly buckets = new Map<string, Bucket>();

  constructor(limit: RateLimit, now: () => number = () => performance.now()) {
    if (!(limit.perSecond > 0) || !(limit.burst >= 1)) throw new RangeError('rate limit needs perSecond > 0 and burst >= 1');
    this.perSecond = limit.perSecond;
    this.burst = limit.burst;
    this.now = now;
  }

  /**
   * Takes a token for `key` when one is there and returns 0; otherwise takes nothing and returns
   * the milliseconds until one will be (or until the block ends).
   */
  tryTake(key: string): number {
    const bucket = this.refill(key);
    const now = this.now();
    if (bucket.blockedUntil > now) return Math.ceil(bucket.blockedUntil - now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) / this.perSecond) * 1000);
  }

  /** Sends nothing to `key` for `ms` (and empties its bucket). */
  block(key: string, ms: number): void {
    const bucket = this.refill(key);
    bucket.blockedUntil = Math.max(bucket.blockedUntil, this.now() + ms);
    bucket.tokens = 0;
  }

  private refill(key: string): Bucket {
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= MAX_BUCKETS) this.forgetOldest();
      bucket = { tokens: this.burst, updatedAt: now, blockedUntil: 0 };
    } else {
      this.buckets.delete(key);
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.perSecond);
      bucket.updatedAt = now;
    }
    this.buckets.set(key, bucket); // Map order = least recently used first
    return bucket;
  }

  private forgetOldest(): void {
    const oldest = this.buckets.keys().next();
    if (!oldest.done) this.buckets.delete(oldest.value);
  }
}
