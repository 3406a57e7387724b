/**
 * `/explain`: what the proxy would do with a request, without sending one — the route and why (every
 * candidate the router tried), the pool, each upstream's availability, breaker state and balancer inputs,
 * and the rate limit left for a key.
 */
import type { MatchStep } from "../router/router.ts";
import type { RouteRuntime, Runtime } from "../runtime.ts";
import type { Upstream } from "../upstream/upstream.ts";
import type { CircuitState } from "../metrics/stats_types.ts";
import { circuitStateOf } from "./upstream_snapshots.ts";

export interface ExplainQuery {
  readonly method: string;
  readonly host: string;
  /** Path, optionally with a query (ignored for matching, as in the proxy). */
  readonly path: string;
  /** Rate-limit key to look up (client address, header value…); optional. */
  readonly key?: string | undefined;
}

/**
 * Tokens left in the rate-limit bucket of `key` on `route`, without taking one; `null` when unknown. The
 * rate limiter provides this (`AdminAppOptions.rateLimitTokens`).
 */
export type RateLimitProbe = (
  runtime: Runtime,
  route: RouteRuntime,
  key: string,
) => number | null | Promise<number | null>;

export interface ExplainedUpstream {
  readonly id: string;
  readonly weight: number;
  readonly backup: boolean;
  readonly healthy: boolean;
  readonly available: boolean;
  readonly breaker: CircuitState;
  readonly inFlight: number;
  readonly latencyEwmaMs: number;
  /** The balancer's own score for this upstream when it exposes one (`score(upstream)`), else `null`. */
  readonly score: number | null;
}

export interface Explanation {
  readonly request: { readonly method: string; readonly host: string; readonly path: string };
  /** Route name, or `null` when nothing matched (the proxy answers 404). */
  readonly route: string | null;
  /** `true` when the pool-less fallback (`default` pool) answered. */
  readonly fallback: boolean;
  /** Every candidate tried, in order; the last one with `matched` won. */
  readonly candidates: readonly MatchStep[];
  readonly pool: {
    readonly name: string;
    readonly algorithm: string;
    readonly available: number;
    readonly upstreams: readonly ExplainedUpstream[];
  } | null;
  readonly rateLimit: {
    readonly requestsPerSecond: number;
    readonly burst: number;
    readonly key: string | null;
    readonly tokensLeft: number | null;
  } | null;
}

/** A balancer that can tell how it rates an upstream (lower is better); optional. */
interface ScoringBalancer {
  score(upstream: Upstream): number;
}

function hasScore(balancer: object): balancer is ScoringBalancer {
  return typeof (balancer as Partial<ScoringBalancer>).score === "function";
}

export async function explain(
  runtime: Runtime,
  query: ExplainQuery,
  options: { rateLimitTokens?: RateLimitProbe | undefined; now?: () => number } = {},
): Promise<Explanation> {
  const { rateLimitTokens, now = performance.now.bind(performance) } = options;
  const method = query.method.toUpperCase();
  const q = query.path.indexOf("?");
  const path = q < 0 ? query.path : query.path.slice(0, q);
  const candidates: MatchStep[] = [];
  const route = runtime.router.match(method, query.host, path, candidates);
  const request = { method, host: query.host, path: query.path };
  if (route === undefined) {
    return { request, route: null, fallback: false, candidates, pool: null, rateLimit: null };
  }
  const pool = route.pool;
  const balancer = pool.balancer;
  const at = now();
  const upstreams = pool.upstreams.map((u): ExplainedUpstream => ({
    id: u.id,
    weight: u.weight,
    backup: u.backup,
    healthy: u.healthy,
    available: u.available,
    breaker: circuitStateOf(u),
    inFlight: u.inFlight,
    latencyEwmaMs: u.latencyEwmaMs(at),
    score: hasScore(balancer) ? balancer.score(u) : null,
  }));
  const limit = runtime.config.rateLimit;
  const key = query.key ?? null;
  const tokensLeft = limit && key !== null && rateLimitTokens
    ? await rateLimitTokens(runtime, route, key)
    : null;
  return {
    request,
    route: route.name,
    fallback: route.config === undefined,
    candidates,
    pool: {
      name: pool.name,
      algorithm: runtime.config.pools.get(pool.name)?.loadBalancer.algorithm ?? "round_robin",
      available: upstreams.filter((u) => u.available).length,
      upstreams,
    },
    rateLimit: limit
      ? { requestsPerSecond: limit.requestsPerSecond, burst: limit.burst, key, tokensLeft }
      : null,
  };
}
