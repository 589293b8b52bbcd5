/** Per-key token buckets (docs/spec.md §4 floods): `capacity` burst, `perSecond` refill. */
export interface RateLimiter {
  /** Takes one token for `key` at time `nowMs`; false when the bucket is empty. */
  take(key: string, nowMs: number): boolean;
  /** Gives back a token taken for work the server then refused for its own reasons (`unavailable`). */
  refund(key: string): void;
}

/** A bucket's shape. */
export interface RateLimit {
  readonly capacity: number;
  readonly perSecond: number;
}

/** Creates a limiter remembering at most `maxKeys` buckets (oldest forgotten first, i.e. refilled). */
export function createRateLimiter(limit: RateLimit, maxKeys = 200_000): RateLimiter {
  const buckets = new Map<string, { tokens: number; atMs: number }>();
  return {
    take(key, nowMs) {
      const b = buckets.get(key) ?? { tokens: limit.capacity, atMs: nowMs };
      buckets.delete(key);
      b.tokens = Math.min(limit.capacity, b.tokens + ((nowMs - b.atMs) / 1000) * limit.perSecond);
      b.atMs = nowMs;
      const ok = b.tokens >= 1;
      if (ok) b.tokens -= 1;
      buckets.set(key, b);
      if (buckets.size > maxKeys) buckets.delete(buckets.keys().next().value as string);
      return ok;
    },
    refund(key) {
      const b = buckets.get(key);
      if (b) b.tokens = Math.min(limit.capacity, b.tokens + 1);
    },
  };
}
