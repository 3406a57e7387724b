import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app_env.ts";
import type { ProxyMetrics } from "../metrics/proxy_metrics.ts";
import { errorResponse } from "../errors.ts";
import { retryAfterSeconds } from "../ratelimit/rate_limit_headers.ts";

/**
 * Token-bucket rate limiting per route and client (README, "Rate limiting"). Over the limit → 429 with
 * `Retry-After` (RFC 9110 §10.2.3, seconds) and the draft-ietf-httpapi-ratelimit-headers fields
 * `RateLimit-Policy` and `RateLimit`; allowed responses carry those two as well unless
 * `rate_limit.headers` says otherwise. With no limits configured this is one property check.
 *
 * Reads per-request values with `c.get()`: Hono's `c.var` builds a fresh object from the variable map on
 * every access (Object.fromEntries), which cost ~1 µs per access here.
 */
export interface RateLimitOptions {
  /** Counts every 429 in `proxy_rate_limited_total{route}` and `/stats` (`rateLimited`). */
  metrics?: ProxyMetrics;
}

export function rateLimit(options: RateLimitOptions = {}): MiddlewareHandler<AppEnv> {
  const { metrics } = options;
  return async function rateLimit(c, next) {
    const limiter = c.get("runtime").rateLimiter;
    if (limiter === undefined) return await next();
    const route = c.get("route");
    const rule = limiter.ruleFor(route.config);
    if (rule === undefined) return await next();
    const request = c.req.raw;
    const policy = rule.policy;
    const key = limiter.keyFor(rule, c.get("peerIp"), c.get("trusted"), request.headers);
    // The memory store answers synchronously: no microtask on the hot path.
    const pending = policy.store.take(key);
    const decision = pending instanceof Promise ? await pending : pending;
    policy.record(decision);
    if (!decision.allowed) {
      metrics?.rateLimited(route.name);
      const headers: Record<string, string> = { "retry-after": String(retryAfterSeconds(decision)) };
      if (limiter.headers !== "none") {
        headers["ratelimit-policy"] = policy.header;
        headers["ratelimit"] = policy.format(decision);
      }
      return errorResponse(429, "too many requests", c.get("requestId"), headers);
    }
    await next();
    if (limiter.headers === "all") {
      const responseHeaders = c.res.headers;
      responseHeaders.set("ratelimit-policy", policy.header);
      responseHeaders.set("ratelimit", policy.format(decision));
    }
  };
}
