import type { Decision, TokenBucketPolicy } from "./token_bucket.ts";

/**
 * Where token buckets live. One store serves one policy (rate and burst); keys partition it
 * (client address, header value or "global").
 *
 * `take` returns `Decision | Promise<Decision>` on purpose: the in-memory store answers
 * synchronously so the hot path costs no microtask, while the Redis store is inherently async.
 * Callers write
 *
 * ```ts
 * const pending = store.take(key);
 * const decision = pending instanceof Promise ? await pending : pending;
 * ```
 *
 * A store never rejects for backend trouble: a store that cannot reach its backend answers per
 * its failure mode (allow or refuse) and reports the trouble through its own counters.
 */
export interface RateLimitStore {
  /** The rule every bucket of this store follows (for `RateLimit-Policy`). */
  readonly policy: TokenBucketPolicy;
  /** Takes `cost` tokens (default 1) from the bucket named `key`. */
  take(key: string, cost?: number): Decision | Promise<Decision>;
}

/** Names accepted in `rate_limit.store`. */
export type RateLimitStoreKind = "memory" | "redis";
