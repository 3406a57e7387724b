/**
 * The proxy's metric families (Traefik/Caddy-style names) and the `/stats` snapshot for the dashboard.
 *
 * The request hot path is `recordRequest()`: three small map lookups (route name, upstream id, then a
 * number for method and status; no key string is built per request) return a cached bundle of the counter
 * child, histogram child and the route/upstream stats, then a few field adds. Gauges that
 * describe state (upstream up, per-upstream in-flight, breaker state) are callback gauges read at scrape
 * time, so nothing on the request path updates them.
 *
 * Pure module: time comes from the injected `now`; upstream state from the injected `upstreams`.
 */
import { Counter, type CounterChild } from "./counter.ts";
import { Gauge } from "./gauge.ts";
import { DEFAULT_LATENCY_BUCKETS, Histogram, type HistogramChild } from "./histogram.ts";
import { LatencyWindow } from "./latency_window.ts";
import type { Registry } from "./registry.ts";
import { OVERFLOW_LABEL_VALUE } from "./series_map.ts";
import type { CircuitState, Stats, UpstreamStats } from "./stats_types.ts";

/**
 * How the response cache answered one request: `hit` (fresh, from memory), `stale` (served stale: max-stale,
 * stale-while-revalidate, stale-if-error), `revalidated` (stored body after the upstream's 304), `miss`
 * (forwarded; nothing usable stored, or the revalidation brought a new response), `bypass` (not a cache
 * candidate: unsafe method or a request body).
 */
export type CacheResult = "hit" | "miss" | "stale" | "bypass" | "revalidated";
/** Every {@linkcode CacheResult}, pre-created as series so dashboards see zeros. */
export const CACHE_RESULTS: readonly CacheResult[] = ["hit", "miss", "stale", "bypass", "revalidated"];
export type ReloadResult = "success" | "failure";

/** What the metrics read from an upstream at scrape time; `Upstream` satisfies it (add `pool`/`breaker`). */
export interface UpstreamSnapshot {
  readonly id: string;
  readonly pool?: string;
  readonly healthy: boolean;
  readonly inFlight: number;
  /** Omit when the upstream has no breaker. */
  readonly breaker?: CircuitState;
  /** HTTP/1.1 transport connections; omit when unknown. */
  readonly connections?: Readonly<ConnectionCounts>;
}

/** Upstream connection figures of the http1 transport (see `ConnectionStats` of the upstream). */
export interface ConnectionCounts {
  readonly idle: number;
  readonly active: number;
  readonly opened: number;
  readonly reused: number;
  readonly interim: number;
}

/** A callback gauge exposed as a counter: a total read at scrape time from state the transport keeps. */
class CallbackCounter extends Gauge {
  override readonly type = "counter" as const;
}

export interface ProxyMetricsOptions {
  /** Current upstreams of the live runtime, read at scrape and `/stats` time. Default: none. */
  upstreams?: () => Iterable<UpstreamSnapshot>;
  /** Distinct route names tracked before folding into `"other"`. Default 200. */
  maxRoutes?: number;
  /** Distinct upstream ids tracked before folding into `"other"`. Default 500. */
  maxUpstreams?: number;
  /** Series cap of `proxy_requests_total` (route × upstream × method × code). Default 10_000. */
  maxRequestSeries?: number;
  /** Latency samples kept per route and per upstream for p50/p99. Default 1024. */
  latencyWindowSize?: number;
  /** Age limit (ms) of those samples. Default 60_000. */
  latencyWindowMs?: number;
  /** Clock in ms. Default `Date.now`. */
  now?: () => number;
}

/** Methods kept as their own label value (RFC 9110 §9 plus PATCH); anything else is `"OTHER"`. */
const KNOWN_METHODS = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "CONNECT",
  "OPTIONS",
  "TRACE",
  "PATCH",
]);
/** Method → small number for the series key; unknown methods share the `"OTHER"` slot. */
const METHOD_SLOTS = new Map([...KNOWN_METHODS].map((method, i) => [method, i + 1]));

/** `"100"`…`"599"` precomputed so the hot path allocates no string for the code label. */
const STATUS_LABELS: readonly string[] = Array.from({ length: 600 }, (_, i) => (i >= 100 ? String(i) : ""));

/** Normalizes a request method to a bounded label value. */
export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : "OTHER";
}

/** Normalizes a status to its 3-digit label value; anything outside 100–599 is `"other"`. */
export function statusLabel(status: number): string {
  return Number.isInteger(status) && status >= 100 && status <= 599
    ? STATUS_LABELS[status] as string
    : "other";
}

/** No upstream took part (rate limited, cache hit, no upstream available). */
export const NO_UPSTREAM = "none";

interface RouteStat {
  requests: number;
  errors5xx: number;
  retries: number;
  rateLimited: number;
  readonly window: LatencyWindow;
}

interface UpstreamStat {
  requests: number;
  errors: number;
  readonly window: LatencyWindow;
}

/** Everything one `recordRequest()` touches for one (route, upstream, method, status). */
interface RequestSeries {
  readonly requests: CounterChild;
  readonly duration: HistogramChild;
  readonly route: RouteStat;
  readonly upstream: UpstreamStat | undefined;
  readonly is5xx: boolean;
}

/** Bundles past this many are computed on each call instead of cached, so the cache stays bounded. */
const MAX_CACHED_SERIES = 20_000;

export class ProxyMetrics {
  readonly requests: Counter;
  readonly duration: Histogram;
  readonly inFlight: Gauge;
  readonly upstreamUp: Gauge;
  readonly upstreamInFlight: Gauge;
  readonly circuitState: Gauge;
  readonly retries: Counter;
  readonly rateLimitedTotal: Counter;
  readonly cacheRequests: Counter;
  readonly configReloads: Counter;
  readonly configLastReloadSuccess: Gauge;
  readonly websocketsOpen: Gauge;
  readonly upstreamConnections: Gauge;
  readonly upstreamConnectionsOpened: Gauge;
  readonly upstreamConnectionsReused: Gauge;
  readonly upstreamInterimResponses: Gauge;

  readonly #upstreams: () => Iterable<UpstreamSnapshot>;
  readonly #maxRoutes: number;
  readonly #maxUpstreams: number;
  readonly #windowSize: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #startedAt: number;
  /** route → upstream → (method slot × 1000 + status) → series; `#cachedSeries` bundles in all. */
  readonly #cache = new Map<string, Map<string, Map<number, RequestSeries>>>();
  #cachedSeries = 0;
  readonly #routes = new Map<string, RouteStat>();
  readonly #upstreamStats = new Map<string, UpstreamStat>();
  #features = { cache: false, rateLimit: false };
  #lastReloadSuccessMs: number | null = null;

  constructor(registry: Registry, options: ProxyMetricsOptions = {}) {
    const {
      upstreams = () => [],
      maxRoutes = 200,
      maxUpstreams = 500,
      maxRequestSeries = 10_000,
      latencyWindowSize = 1024,
      latencyWindowMs = 60_000,
      now = Date.now,
    } = options;
    for (
      const [key, value] of Object.entries({ maxRoutes, maxUpstreams, maxRequestSeries, latencyWindowSize })
    ) {
      if (!Number.isInteger(value) || value < 1) {
        throw new RangeError(`ProxyMetrics ${key} must be an integer ≥ 1, got ${value}`);
      }
    }
    if (!(latencyWindowMs > 0)) {
      throw new RangeError(`ProxyMetrics latencyWindowMs must be > 0, got ${latencyWindowMs}`);
    }
    if (typeof upstreams !== "function") throw new TypeError("ProxyMetrics upstreams must be a function");
    if (typeof now !== "function") throw new TypeError("ProxyMetrics now must be a function");
    this.#upstreams = upstreams;
    this.#maxRoutes = maxRoutes;
    this.#maxUpstreams = maxUpstreams;
    this.#windowSize = latencyWindowSize;
    this.#windowMs = latencyWindowMs;
    this.#now = now;
    this.#startedAt = now();

    this.requests = registry.register(
      new Counter("proxy_requests_total", {
        help: "Requests handled, by route, upstream, method and status code.",
        labelNames: ["route", "upstream", "method", "code"],
        maxSeries: maxRequestSeries,
      }),
    );
    this.duration = registry.register(
      new Histogram("proxy_request_duration_seconds", {
        help: "Time from request received to response headers sent, by route.",
        labelNames: ["route"],
        maxSeries: maxRoutes,
        buckets: DEFAULT_LATENCY_BUCKETS,
      }),
    );
    this.inFlight = registry.register(
      new Gauge("proxy_requests_in_flight", { help: "Requests currently being handled." }),
    );
    this.upstreamUp = registry.register(
      new Gauge("proxy_upstream_up", {
        help: "1 when the upstream passes its health checks, else 0.",
        labelNames: ["upstream"],
        maxSeries: maxUpstreams,
        collect: (emit) => {
          for (const u of this.#upstreams()) emit([u.id], u.healthy ? 1 : 0);
        },
      }),
    );
    this.upstreamConnections = registry.register(
      new Gauge("proxy_upstream_connections", {
        help: "Open HTTP/1.1 connections to the upstream, idle in the pool or carrying a request.",
        labelNames: ["upstream", "state"],
        maxSeries: maxUpstreams * 2,
        collect: (emit) => {
          for (const u of this.#upstreams()) {
            if (u.connections === undefined) continue;
            emit([u.id, "idle"], u.connections.idle);
            emit([u.id, "active"], u.connections.active);
          }
        },
      }),
    );
    const total = (name: string, help: string, read: (c: ConnectionCounts) => number) =>
      registry.register(
        new CallbackCounter(name, {
          help,
          labelNames: ["upstream"],
          maxSeries: maxUpstreams,
          collect: (emit) => {
            for (const u of this.#upstreams()) if (u.connections) emit([u.id], read(u.connections));
          },
        }),
      );
    this.upstreamConnectionsOpened = total(
      "proxy_upstream_connections_opened_total",
      "HTTP/1.1 connections opened to the upstream.",
      (c) => c.opened,
    );
    this.upstreamConnectionsReused = total(
      "proxy_upstream_connections_reused_total",
      "Requests sent on a kept-alive connection that served a request before.",
      (c) => c.reused,
    );
    this.upstreamInterimResponses = total(
      "proxy_upstream_interim_responses_total",
      "1xx interim responses from the upstream, read and skipped.",
      (c) => c.interim,
    );
    this.upstreamInFlight = registry.register(
      new Gauge("proxy_upstream_requests_in_flight", {
        help: "Requests currently forwarded to the upstream.",
        labelNames: ["upstream"],
        maxSeries: maxUpstreams,
        collect: (emit) => {
          for (const u of this.#upstreams()) emit([u.id], u.inFlight);
        },
      }),
    );
    this.circuitState = registry.register(
      new Gauge("proxy_circuit_state", {
        help: "1 for the circuit breaker's current state of the upstream, 0 for the other states.",
        labelNames: ["upstream", "state"],
        maxSeries: maxUpstreams * 3,
        collect: (emit) => {
          for (const u of this.#upstreams()) {
            if (u.breaker === undefined) continue;
            for (const state of ["closed", "open", "half_open"] as const) {
              emit([u.id, state], u.breaker === state ? 1 : 0);
            }
          }
        },
      }),
    );
    this.retries = registry.register(
      new Counter("proxy_retries_total", {
        help: "Requests retried on another upstream, by route.",
        labelNames: ["route"],
        maxSeries: maxRoutes,
      }),
    );
    this.rateLimitedTotal = registry.register(
      new Counter("proxy_rate_limited_total", {
        help: "Requests refused with 429 by the rate limiter, by route.",
        labelNames: ["route"],
        maxSeries: maxRoutes,
      }),
    );
    this.cacheRequests = registry.register(
      new Counter("proxy_cache_requests_total", {
        help: "Response cache lookups, by result (hit, miss, stale, bypass, revalidated).",
        labelNames: ["result"],
        maxSeries: CACHE_RESULTS.length,
      }),
    );
    this.configReloads = registry.register(
      new Counter("proxy_config_reloads_total", {
        help: "Configuration loads and reloads, by result (success, failure).",
        labelNames: ["result"],
        maxSeries: 2,
      }),
    );
    this.configLastReloadSuccess = registry.register(
      new Gauge("proxy_config_last_reload_success_timestamp_seconds", {
        help: "Unix time of the last successful configuration load.",
      }),
    );
    this.websocketsOpen = registry.register(
      new Gauge("proxy_websockets_open", { help: "WebSocket connections currently proxied." }),
    );
    // Pre-create the fixed label sets so dashboards see zeros instead of missing series.
    for (const result of CACHE_RESULTS) this.cacheRequests.labels(result);
    for (const result of ["success", "failure"]) this.configReloads.labels(result);
  }

  /** The metrics middleware calls this when a request enters, and {@linkcode requestEnded} in `finally`. */
  requestStarted(): void {
    this.inFlight.inc();
  }

  requestEnded(): void {
    this.inFlight.dec();
  }

  /**
   * Records one completed request: hot path. `upstream` is `Upstream.id`, or {@linkcode NO_UPSTREAM}
   * (`""` is taken as that) when none took part; `seconds` is the time to response headers.
   */
  recordRequest(route: string, upstream: string, method: string, status: number, seconds: number): void {
    const code = Number.isInteger(status) && status >= 0 && status < 1000 ? status : 999;
    const key = (METHOD_SLOTS.get(method) ?? 0) * 1000 + code;
    const series = this.#cache.get(route)?.get(upstream)?.get(key) ??
      this.#series(key, route, upstream, method, status);
    series.requests.inc();
    series.duration.observe(seconds);
    const ms = seconds * 1000;
    const at = this.#now();
    const r = series.route;
    r.requests++;
    r.window.observe(ms, at);
    const u = series.upstream;
    if (u !== undefined) {
      u.requests++;
      u.window.observe(ms, at);
    }
    if (series.is5xx) {
      r.errors5xx++;
      if (u !== undefined) u.errors++;
    }
  }

  #series(key: number, route: string, upstream: string, method: string, status: number): RequestSeries {
    const upstreamLabel = upstream === "" ? NO_UPSTREAM : upstream;
    const series: RequestSeries = {
      requests: this.requests.labels(route, upstreamLabel, methodLabel(method), statusLabel(status)),
      duration: this.duration.labels(route),
      route: this.#routeStat(route),
      upstream: upstreamLabel === NO_UPSTREAM ? undefined : this.#upstreamStat(upstreamLabel),
      is5xx: status >= 500 && status <= 599,
    };
    // Unknown methods share slot 0 and all have the label "OTHER"; statuses outside 0–999 share 999 and all have
    // the code label "other" (and are not 5xx), so one bundle serves each shared key.
    if (this.#cachedSeries < MAX_CACHED_SERIES) {
      let byUpstream = this.#cache.get(route);
      if (byUpstream === undefined) this.#cache.set(route, byUpstream = new Map());
      let byCode = byUpstream.get(upstream);
      if (byCode === undefined) byUpstream.set(upstream, byCode = new Map());
      byCode.set(key, series);
      this.#cachedSeries++;
    }
    return series;
  }

  #routeStat(name: string): RouteStat {
    let stat = this.#routes.get(name);
    if (stat !== undefined) return stat;
    if (this.#routes.size >= this.#maxRoutes) {
      stat = this.#routes.get(OVERFLOW_LABEL_VALUE);
      if (stat !== undefined) return stat;
      name = OVERFLOW_LABEL_VALUE;
    }
    stat = { requests: 0, errors5xx: 0, retries: 0, rateLimited: 0, window: this.#window() };
    this.#routes.set(name, stat);
    return stat;
  }

  #upstreamStat(id: string): UpstreamStat {
    let stat = this.#upstreamStats.get(id);
    if (stat !== undefined) return stat;
    if (this.#upstreamStats.size >= this.#maxUpstreams) {
      stat = this.#upstreamStats.get(OVERFLOW_LABEL_VALUE);
      if (stat !== undefined) return stat;
      id = OVERFLOW_LABEL_VALUE;
    }
    stat = { requests: 0, errors: 0, window: this.#window() };
    this.#upstreamStats.set(id, stat);
    return stat;
  }

  #window(): LatencyWindow {
    return new LatencyWindow({ size: this.#windowSize, windowMs: this.#windowMs, now: this.#now });
  }

  /** A retry was sent to another upstream for this route. */
  retry(route: string): void {
    this.retries.labels(route).inc();
    this.#routeStat(route).retries++;
  }

  /** The rate limiter refused a request on this route (429). */
  rateLimited(route: string): void {
    this.rateLimitedTotal.labels(route).inc();
    this.#routeStat(route).rateLimited++;
  }

  /** The response cache answered a lookup. */
  cacheResult(result: CacheResult): void {
    this.cacheRequests.labels(result).inc();
  }

  /** A config load or reload finished; success stamps `proxy_config_last_reload_success_timestamp_seconds`. */
  configReloaded(result: ReloadResult): void {
    this.configReloads.labels(result).inc();
    if (result === "success") {
      const now = this.#now();
      this.#lastReloadSuccessMs = now;
      this.configLastReloadSuccess.setToTimeSeconds(now);
    }
  }

  websocketOpened(): void {
    this.websocketsOpen.inc();
  }

  websocketClosed(): void {
    this.websocketsOpen.dec();
  }

  /** Which optional sections `/stats` reports (the others are `null`); call after each (re)load. */
  setFeatures(features: { cache: boolean; rateLimit: boolean }): void {
    this.#features = { cache: features.cache, rateLimit: features.rateLimit };
  }

  /** The `/stats` snapshot. */
  stats(): Stats {
    const now = this.#now();
    const routes = [...this.#routes.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, r]) => {
        const [p50Ms, p99Ms] = r.window.quantiles([0.5, 0.99]);
        return {
          name,
          requests: r.requests,
          errors5xx: r.errors5xx,
          retries: r.retries,
          rateLimited: r.rateLimited,
          p50Ms: p50Ms ?? null,
          p99Ms: p99Ms ?? null,
        };
      });
    const upstreams: UpstreamStats[] = [];
    for (const u of this.#upstreams()) {
      const stat = this.#upstreamStats.get(u.id);
      const [p50Ms, p99Ms] = stat?.window.quantiles([0.5, 0.99]) ?? [];
      upstreams.push({
        id: u.id,
        pool: u.pool ?? "",
        up: u.healthy,
        breaker: u.breaker ?? null,
        inFlight: u.inFlight,
        connections: u.connections === undefined ? null : {
          idle: u.connections.idle,
          active: u.connections.active,
          opened: u.connections.opened,
          reused: u.connections.reused,
          interim: u.connections.interim,
        },
        requests: stat?.requests ?? 0,
        errors: stat?.errors ?? 0,
        p50Ms: p50Ms ?? null,
        p99Ms: p99Ms ?? null,
      });
    }
    upstreams.sort((a, b) => (a.pool === b.pool ? (a.id < b.id ? -1 : 1) : a.pool < b.pool ? -1 : 1));
    let requests = 0;
    let errors5xx = 0;
    let retries = 0;
    let rateLimited = 0;
    for (const r of this.#routes.values()) {
      requests += r.requests;
      errors5xx += r.errors5xx;
      retries += r.retries;
      rateLimited += r.rateLimited;
    }
    return {
      uptimeSeconds: (now - this.#startedAt) / 1000,
      generatedAtMs: now,
      totals: { requests, errors5xx, inFlight: this.inFlight.get(), retries, rateLimited },
      routes,
      upstreams,
      cache: this.#features.cache
        ? {
          hits: this.cacheRequests.get("hit"),
          misses: this.cacheRequests.get("miss"),
          stale: this.cacheRequests.get("stale"),
          bypass: this.cacheRequests.get("bypass"),
          revalidated: this.cacheRequests.get("revalidated"),
        }
        : null,
      rateLimit: this.#features.rateLimit ? { limited: rateLimited } : null,
      websocketsOpen: this.websocketsOpen.get(),
      config: {
        reloadsSucceeded: this.configReloads.get("success"),
        reloadsFailed: this.configReloads.get("failure"),
        lastReloadSuccessMs: this.#lastReloadSuccessMs,
      },
    };
  }
}
