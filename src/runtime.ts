import type { Config } from "./config/types.ts";
import type { RouteConfig } from "./config/types.ts";
import { CacheRuntime } from "./cache/cache_runtime.ts";
import { DEFAULT_POOL } from "./config/validate_config.ts";
import { TrustedProxies } from "./net/client_address.ts";
import { InFlight } from "./in_flight.ts";
import { Forwarder } from "./proxy/forward.ts";
import { RateLimiter, type RateLimiterOptions } from "./ratelimit/rate_limiter.ts";
import { Router, type RouteSpec } from "./router/router.ts";
import { PoolRuntime, type RuntimeLog } from "./pool/pool_runtime.ts";
import type { Upstream } from "./upstream/upstream.ts";

export { PoolRuntime } from "./pool/pool_runtime.ts";
export type { RuntimeLog } from "./pool/pool_runtime.ts";

export interface RouteRuntime {
  readonly name: string;
  readonly config: RouteConfig | undefined;
  readonly pool: PoolRuntime;
}

export interface RuntimeOptions {
  /** The runtime being replaced: upstreams with an unchanged URL keep their state (health, breaker, counters). */
  previous?: Runtime | undefined;
  /** "https" when the listener terminates TLS. */
  proto?: "http" | "https";
  /** Structured log sink for state changes (health, breaker, panic). Default: JSON lines on stderr. */
  log?: RuntimeLog;
  /** Stores of `memory` rate-limit policies (worker isolates: shared memory); default one per policy. */
  memoryRateLimitStore?: RateLimiterOptions["memoryStore"];
}

/** Default log sink: one JSON object per line on stderr. */
export const stderrLog: RuntimeLog = (event, fields) =>
  console.error(JSON.stringify({ time: new Date().toISOString(), event, ...fields }));

/**
 * Everything compiled from one Config: routes, pools, balancers, breakers, health checkers, HTTP clients.
 * Requests take a snapshot at their start, so a reload swaps the whole runtime atomically and in-flight
 * requests finish on the old one. Nothing starts in the constructor; `start()` starts the health checks.
 */
export class Runtime implements AsyncDisposable {
  readonly config: Config;
  readonly router: Router<RouteRuntime>;
  readonly pools: ReadonlyMap<string, PoolRuntime>;
  readonly trustedProxies: TrustedProxies;
  /** Undefined when nothing is rate limited; buckets carry over a reload for unchanged policies. */
  readonly rateLimiter: RateLimiter | undefined;
  readonly via: string;
  readonly proto: "http" | "https";
  readonly log: RuntimeLog;
  /** Process-wide random key for sticky cookies without a configured secret; kept across reloads. */
  readonly stickySecret: Uint8Array;
  /** Response cache (undefined when `cache:` is absent); taken over from `previous` when unchanged. */
  readonly cache: CacheRuntime | undefined;
  /** Requests that started on this runtime and are still in the middleware (see src/lifecycle/reloader.ts). */
  readonly inFlight = new InFlight();

  constructor(config: Config, options: RuntimeOptions = {}) {
    const { previous } = options;
    this.config = config;
    const server = config.server;
    this.via = `1.1 ${server.name}`;
    this.proto = options.proto ?? previous?.proto ?? (server.tls ? "https" : "http");
    this.log = options.log ?? previous?.log ?? stderrLog;
    this.stickySecret = previous?.stickySecret ?? crypto.getRandomValues(new Uint8Array(32));
    this.trustedProxies = new TrustedProxies(server.trustedProxies);
    this.rateLimiter = RateLimiter.build({
      config: config.rateLimit,
      routes: config.routes,
      trustedProxies: this.trustedProxies,
      previous: options.previous?.rateLimiter,
      memoryStore: options.memoryRateLimitStore,
    });
    this.cache = CacheRuntime.reuseOrCreate(config.cache, {
      cacheName: server.name,
      defaultLockTimeoutMs: server.timeoutMs,
    }, options.previous?.cache);
    const reuse = new Map<string, Upstream>();
    for (const pool of previous?.pools.values() ?? []) {
      for (const upstream of pool.upstreams) reuse.set(`${pool.name}\n${upstream.id}`, upstream);
    }
    const pools = new Map<string, PoolRuntime>();
    for (const [name, poolConfig] of config.pools) {
      const forwarder = new Forwarder({
        firstByteTimeoutMs: server.firstByteTimeoutMs,
        bodyTimeoutMs: server.bodyTimeoutMs,
        bodyIdleTimeoutMs: server.bodyIdleTimeoutMs,
        observeLatency: poolConfig.loadBalancer.algorithm === "ewma",
        maxResponseHeaderBytes: server.maxResponseHeaderBytes,
        via: this.via,
        compression: server.compression,
        transport: poolConfig.transport,
        connectionPool: poolConfig.connectionPool,
        ...(poolConfig.tls ? { caCerts: [poolConfig.tls.ca] } : {}),
      });
      pools.set(
        name,
        new PoolRuntime(poolConfig, {
          forwarder,
          reuse,
          previous: previous?.pools.get(name),
          stickySecret: this.stickySecret,
          log: this.log,
        }),
      );
    }
    this.pools = pools;
    const routes = config.routes.map((route): RouteSpec<RouteRuntime> => ({
      host: route.match.host,
      path: route.match.path,
      pathPrefix: route.match.pathPrefix,
      methods: route.match.methods,
      value: { name: route.name, config: route, pool: pools.get(route.upstream)! },
    }));
    const defaultPool = pools.get(DEFAULT_POOL);
    this.router = new Router<RouteRuntime>(
      routes,
      defaultPool ? { name: DEFAULT_POOL, config: undefined, pool: defaultPool } : undefined,
    );
  }

  /** Starts health checks. Call once, after construction, from whoever will dispose this runtime. */
  start(): this {
    for (const pool of this.pools.values()) pool.start();
    return this;
  }

  /** Stops health checks and closes HTTP clients (in-flight requests on this runtime should be done). */
  async [Symbol.asyncDispose](): Promise<void> {
    this.rateLimiter?.[Symbol.dispose]();
    await Promise.all([...this.pools.values()].map((pool) => pool[Symbol.asyncDispose]()));
  }
}

/** Where middleware finds the current runtime; `main.ts` swaps `current` on reload. */
export interface RuntimeSource {
  readonly current: Runtime;
}
