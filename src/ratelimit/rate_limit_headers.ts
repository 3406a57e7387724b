/**
 * Response fields per draft-ietf-httpapi-ratelimit-headers-10 (September 2025; the -11 revision
 * keeps this syntax). Both fields are Structured Field Lists (RFC 9651):
 *
 *   RateLimit-Policy: "default";q=100;w=10      (§3: q = quota units, w = window in seconds)
 *   RateLimit: "default";r=42;t=3               (§4: r = remaining units, t = seconds to reset)
 *
 * A token bucket maps onto them as q = burst and w = ceil(burst / rate), the time to refill an
 * empty bucket; t is the time until the bucket is full again. Retry-After (RFC 9110 §10.2.3)
 * is sent on 429 in whole seconds.
 */
import type { Decision, TokenBucketPolicy } from "./token_bucket.ts";

/** Serialises an sf-string (RFC 9651 §3.3.3): printable ASCII with `"` and `\` escaped. */
function sfString(value: string): string {
  if (!/^[\x20-\x7e]*$/.test(value)) throw new TypeError(`Policy name must be printable ASCII: "${value}"`);
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** `RateLimit-Policy` value for one policy. */
export function formatRateLimitPolicy(name: string, policy: TokenBucketPolicy): string {
  const quota = Math.floor(policy.burst);
  const window = Math.max(1, Math.ceil(policy.burst / policy.ratePerSecond));
  return `${sfString(name)};q=${quota};w=${window}`;
}

/** `RateLimit` value after a decision. */
export function formatRateLimit(name: string, decision: Decision): string {
  return `${sfString(name)};r=${Math.max(0, decision.remaining)};t=${Math.ceil(decision.resetMs / 1000)}`;
}

/**
 * `formatRateLimit` for one fixed name, with the name serialised once: per request only the two
 * numbers are formatted (the sf-string check and escaping showed up in profiles).
 */
export function rateLimitFormatter(name: string): (decision: Decision) => string {
  const prefix = `${sfString(name)};r=`;
  return (decision) => `${prefix}${Math.max(0, decision.remaining)};t=${Math.ceil(decision.resetMs / 1000)}`;
}

/** `Retry-After` delay-seconds for a refused decision: rounded up, at least 1. */
export function retryAfterSeconds(decision: Decision): number {
  return Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
}
