import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../app_env.ts";
import type { ProxyMetrics } from "../metrics/proxy_metrics.ts";
import { errorResponse } from "../errors.ts";
import { retryAfterSeconds } from "../ratelimit/rate_limit_headers.ts";
import type { Decision } from "../ratelimit/token_bucket.ts";

/**
 * Token-bucket rate limiting per route and client (README, "Rate limiting"). Over the limit → 429 with
 * `Retry-After` (RFC 9110 §10.2.3, seconds) and the draft-ietf-httpapi-ratelimit-headers fields
 * `RateLimit-Policy` and `RateLimit`; allowed responses carry those two as well unless
 * `rate_limit.headers` says otherwise. With no limits configured this is one property check.
 */
export interface RateLimitOptions {
  /** Counts every 429 in `proxy_rate_limited_total{route}` and `/stats` (`rateLimited`). */
  metrics?: ProxyMetrics;
}

export function rateLimit(options: RateLimitOptions = {}): MiddlewareHandler<AppEnv> {
  const { metrics } = options;
  return async function rateLimit(c, next) {
    const pending = checkRateLimit(c, metrics);
    const outcome = pending instanceof Promise ? await pending : pending;
    if (outcome instanceof Response) return outcome;
    await next();
    outcome?.(c.res);
  };
}

/**
 * What {@linkcode checkRateLimit} decided: the 429 to send, a function that adds the rate-limit fields to the
 * response once it exists (`rate_limit.headers: all`), or undefined (no limit applies, or nothing to add).
 */
export type RateLimitOutcome = Response | ((response: Response) => void) | undefined;

/**
 * The work of {@linkcode rateLimit} for one request, for callers that run it inside a level of their own
 * (request_entry.ts). Synchronous with the memory store (no microtask on the hot path), a promise with Redis.
 */
export function checkRateLimit(
  c: Context<AppEnv>,
  metrics: ProxyMetrics | undefined,
): RateLimitOutcome | Promise<RateLimitOutcome> {
  const limiter = c.env.runtime.rateLimiter;
  if (limiter === undefined) return undefined;
  const route = c.env.matched();
  const rule = limiter.ruleFor(route.config);
  if (rule === undefined) return undefined;
  const policy = rule.policy;
  const key = limiter.keyFor(rule, c.env.peerIp, c.env.trusted, c.req.raw.headers);
  const decide = (decision: Decision): RateLimitOutcome => {
    policy.record(decision);
    if (!decision.allowed) {
      metrics?.rateLimited(route.name);
      const headers: Record<string, string> = { "retry-after": String(retryAfterSeconds(decision)) };
      if (limiter.headers !== "none") {
        headers["ratelimit-policy"] = policy.header;
        headers["ratelimit"] = policy.format(decision);
      }
      return errorResponse(429, "too many requests", c.env.requestId, headers);
    }
    if (limiter.headers !== "all") return undefined;
    return (response) => {
      const responseHeaders = response.headers;
      responseHeaders.set("ratelimit-policy", policy.header);
      responseHeaders.set("ratelimit", policy.format(decision));
    };
  };
  const pending = policy.store.take(key);
  return pending instanceof Promise ? pending.then(decide) : decide(pending);
}
