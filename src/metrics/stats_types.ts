/**
 * The JSON shape of `GET /stats` on the admin listener, polled once a second by `src/admin/dashboard.html`.
 *
 * Counters are cumulative since process start; the dashboard derives rates by differencing two polls.
 * Latency percentiles are over a recent window (see `LatencyWindow`), `null` when it holds no samples.
 * Produced by `ProxyMetrics.stats()`.
 */

/** Breaker states, as the circuit breaker names them. */
export type CircuitState = "closed" | "open" | "half_open";

export interface Stats {
  /** Seconds since the metrics were created (≈ process start). */
  uptimeSeconds: number;
  /** When this snapshot was taken, ms since the Unix epoch. */
  generatedAtMs: number;
  totals: StatsTotals;
  /** One entry per route that has served traffic, sorted by name. */
  routes: RouteStats[];
  /** One entry per configured upstream (from the current runtime), sorted by pool then id. */
  upstreams: UpstreamStats[];
  /** `null` when caching is disabled in config. */
  cache: CacheStats | null;
  /** `null` when rate limiting is disabled in config. */
  rateLimit: RateLimitStats | null;
  /** WebSocket connections currently proxied. */
  websocketsOpen: number;
  config: ConfigStats;
}

export interface StatsTotals {
  /** Requests completed (any status). */
  requests: number;
  /** Requests answered with a 5xx status (upstream or proxy generated). */
  errors5xx: number;
  /** Requests currently being handled. */
  inFlight: number;
  /** Retries sent to a further upstream. */
  retries: number;
  /** Requests refused with 429 by the rate limiter. */
  rateLimited: number;
}

export interface RouteStats {
  /** Route name from config (`"other"` collects routes past the cardinality limit). */
  name: string;
  requests: number;
  errors5xx: number;
  retries: number;
  rateLimited: number;
  /** Median latency in ms over the recent window. */
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface UpstreamStats {
  /** `Upstream.id`: the normalized URL without trailing slash. */
  id: string;
  /** Pool (service) name from config, `""` when unknown. */
  pool: string;
  /** Health-check verdict. */
  up: boolean;
  /** Breaker state, `null` when no breaker is configured. */
  breaker: CircuitState | null;
  inFlight: number;
  /** HTTP/1.1 transport connections (gauges idle/active, totals opened/reused/interim); null when unknown. */
  connections: { idle: number; active: number; opened: number; reused: number; interim: number } | null;
  /** Responses attributed to this upstream. */
  requests: number;
  /** Of those, 5xx responses (including the proxy's own 502/504 for this upstream). */
  errors: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface CacheStats {
  hits: number;
  misses: number;
  stale: number;
  bypass: number;
  /** Stored responses served after the upstream answered a revalidation with 304. */
  revalidated: number;
}

export interface RateLimitStats {
  /** Requests refused with 429 since start. */
  limited: number;
}

export interface ConfigStats {
  reloadsSucceeded: number;
  reloadsFailed: number;
  /** Last successful (re)load, ms since the Unix epoch; `null` before the first. */
  lastReloadSuccessMs: number | null;
}
