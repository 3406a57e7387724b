/**
 * Freshness lifetime and age (RFC 9111 §4.2). All times are epoch milliseconds; results are milliseconds.
 */
import { type CacheControl, DELTA_SECONDS_MAX, deltaSeconds, parseCacheControl } from "./cache_control.ts";
import { type HeaderPairs, headerValue } from "./header_list.ts";
import { parseHttpDate } from "./http_date.ts";
import { isTargeted } from "./targeted_fields.ts";

/** Status codes defined as heuristically cacheable (RFC 9110 §15.1). */
export const HEURISTICALLY_CACHEABLE: ReadonlySet<number> = new Set([
  200,
  203,
  204,
  206,
  300,
  301,
  308,
  404,
  405,
  410,
  414,
  501,
]);

/** Fraction of the time since Last-Modified used as heuristic lifetime (RFC 9111 §4.2.2 suggests 10%). */
export const LAST_MODIFIED_FRACTION = 0.1;

export interface FreshnessOptions {
  /** Shared caches honour s-maxage (RFC 9111 §5.2.2.10). */
  shared: boolean;
  /**
   * Heuristic lifetime budget in ms (config `cache.ttl`), used only when the response has no explicit
   * expiration (§4.2.2 forbids heuristics otherwise). With Last-Modified the lifetime is
   * min(10% of Date − Last-Modified, this); without it, this. 0 disables heuristic freshness.
   */
  heuristicTtlMs: number;
}

export interface ResponseTimes {
  /** When the cache sent the request upstream (`request_time`, §4.2.3). */
  requestTime: number;
  /** When the cache received the response (`response_time`, §4.2.3). */
  responseTime: number;
}

/**
 * The Date value, or the response time when Date is missing or invalid: a recipient with a clock records the
 * receipt time as Date (RFC 9110 §6.6.1).
 */
export function dateValue(headers: HeaderPairs, responseTime: number): number {
  return parseHttpDate(headerValue(headers, "date")) ?? responseTime;
}

/**
 * Freshness lifetime (RFC 9111 §4.2.1): s-maxage (shared caches) > max-age > Expires − Date > heuristic.
 * An invalid max-age/s-maxage or Expires makes the response stale (lifetime 0; §4.2.1, §5.3).
 */
export function freshnessLifetimeMs(
  status: number,
  headers: HeaderPairs,
  options: FreshnessOptions & { responseTime: number; cacheControl?: CacheControl },
): number {
  const cc = options.cacheControl ?? parseCacheControl(headerValue(headers, "cache-control"));
  if (options.shared) {
    const sMaxAge = deltaSeconds(cc, "s-maxage");
    if (sMaxAge !== undefined) return Number.isNaN(sMaxAge) ? 0 : sMaxAge * 1000;
  }
  const maxAge = deltaSeconds(cc, "max-age");
  if (maxAge !== undefined) return Number.isNaN(maxAge) ? 0 : maxAge * 1000;
  // RFC 9213 §2.2: with a targeted field in charge, Expires is ignored.
  const expiresField = isTargeted(cc) ? undefined : headerValue(headers, "expires");
  if (expiresField !== undefined) {
    const expires = parseHttpDate(expiresField);
    if (expires === undefined) return 0;
    return Math.max(0, expires - dateValue(headers, options.responseTime));
  }
  // Heuristic freshness (§4.2.2): only for heuristically cacheable statuses or responses marked public.
  // RFC 9111 does not require a validator for heuristic freshness, so responses without ETag/Last-Modified
  // may get `heuristicTtlMs` too; operators who want strict behaviour set `cache.ttl: 0s`.
  if (!HEURISTICALLY_CACHEABLE.has(status) && !cc.has("public")) return 0;
  const budget = options.heuristicTtlMs;
  if (budget <= 0) return 0;
  const lastModified = parseHttpDate(headerValue(headers, "last-modified"));
  if (lastModified === undefined) return budget;
  const since = dateValue(headers, options.responseTime) - lastModified;
  return Math.max(0, Math.min(budget, Math.floor(since * LAST_MODIFIED_FRACTION)));
}

/** Whether the lifetime came from an explicit directive or header rather than a heuristic. */
export function hasExplicitFreshness(headers: HeaderPairs, cc: CacheControl, shared: boolean): boolean {
  return cc.has("max-age") || (shared && cc.has("s-maxage")) ||
    (!isTargeted(cc) && headerValue(headers, "expires") !== undefined);
}

/**
 * The Age header as seconds (RFC 9111 §5.1: `Age = delta-seconds`). Only the first value counts when the
 * field is a list or repeated (`0, old` → 0; repeated lines arrive joined with ", "), and parameters after
 * `;` are dropped (`7200;foo=bar` → 7200). A first value that is not a non-negative integer (negative,
 * fractional, `1 2`, text) is ignored: the age is then 0 and the response's own freshness decides (§5.1 "a
 * cache SHOULD ignore the field"). Values at or beyond
 * 2147483648 are capped there (§1.2.2), which no lifetime exceeds, so such a response is stale.
 */
export function ageValueSeconds(headers: HeaderPairs): number {
  const raw = headerValue(headers, "age");
  if (raw === undefined) return 0;
  const comma = raw.indexOf(",");
  const member = comma < 0 ? raw : raw.slice(0, comma);
  const semicolon = member.indexOf(";");
  const first = (semicolon < 0 ? member : member.slice(0, semicolon)).trim();
  return /^\d+$/.test(first) ? Math.min(Number(first), DELTA_SECONDS_MAX) : 0;
}

/**
 * Current age (RFC 9111 §4.2.3):
 *   apparent_age = max(0, response_time − date_value)
 *   corrected_age_value = age_value + (response_time − request_time)
 *   corrected_initial_age = max(apparent_age, corrected_age_value)
 *   current_age = corrected_initial_age + (now − response_time)
 */
export function currentAgeMs(headers: HeaderPairs, times: ResponseTimes, now: number): number {
  const apparentAge = Math.max(0, times.responseTime - dateValue(headers, times.responseTime));
  const responseDelay = Math.max(0, times.responseTime - times.requestTime);
  const correctedAgeValue = ageValueSeconds(headers) * 1000 + responseDelay;
  const correctedInitialAge = Math.max(apparentAge, correctedAgeValue);
  return correctedInitialAge + Math.max(0, now - times.responseTime);
}
