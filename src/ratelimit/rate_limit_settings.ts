/**
 * The rate limiter's settings, as `config/rate_limit_section.ts` reads them from YAML (`rate_limit:` and
 * `routes[].rate_limit:`). They live here so the rate limiter does not import the config reader.
 */
import type { ForwardedHeaderKind } from "../net/client_address.ts";
import type { RateLimitKeySpec } from "./rate_limit_key.ts";
import type { FailureMode } from "./store_redis.ts";

/** One token-bucket rule: who shares a bucket (`key`) and how fast it refills. */
export interface RateLimitPolicyConfig {
  /** Name in `RateLimit-Policy` / `RateLimit` (printable ASCII). */
  readonly policy: string;
  /** Tokens added per second (> 0, may be fractional). */
  readonly requestsPerSecond: number;
  /** Bucket size: requests allowed at once after an idle period. */
  readonly burst: number;
  readonly key: RateLimitKeySpec;
}

/** Where buckets live. */
export type RateLimitStoreConfig =
  | { readonly kind: "memory" }
  | {
    readonly kind: "redis";
    readonly url: string;
    /** Longest wait for Redis before answering per `failureMode`. */
    readonly timeoutMs: number;
    /** Prefix of every Redis key (the policy name follows it). */
    readonly keyPrefix: string;
  };

/** Which responses carry `RateLimit-Policy` and `RateLimit`: every one, only 429s, or none. */
export type RateLimitHeadersMode = "all" | "limited" | "none";

/** `rate_limit:` — token buckets per client; absent means off (unless a route sets its own). */
export interface RateLimitConfig extends RateLimitPolicyConfig {
  readonly headers: RateLimitHeadersMode;
  /** Which header trusted proxies write the client address into. */
  readonly forwardedHeader: ForwardedHeaderKind;
  /** Most buckets the memory store keeps per policy. */
  readonly maxKeys: number;
  readonly store: RateLimitStoreConfig;
  /** What to do while the store (Redis) cannot be asked. */
  readonly failureMode: FailureMode;
}

/** `routes[].rate_limit:` — `off`, or the route's own limits. Unset keys follow the top-level section. */
export interface RouteRateLimitConfig {
  readonly requestsPerSecond: number;
  readonly burst: number;
  /** Undefined: the top-level `rate_limit.key` (or client_ip). */
  readonly key: RateLimitKeySpec | undefined;
  /** Undefined: the route's name. */
  readonly policy: string | undefined;
}
