/**
 * `/explain`: what the proxy would do with a request, without sending one — the route and why (every
 * candidate the router tried), the pool, the upstream the pool's selection would choose (the same code a real
 * request runs, src/pool/upstream_selection.ts), each upstream's availability, breaker state and balancer
 * inputs, and the rate limit left for a key.
 */
import type { MatchStep } from "../router/router.ts";
import type { SelectionRule } from "../pool/upstream_selection.ts";
import type { RouteRuntime, Runtime } from "../runtime.ts";
import type { CircuitState } from "../metrics/stats_types.ts";
import { circuitStateOf } from "./upstream_snapshots.ts";

export interface ExplainQuery {
  readonly method: string;
  readonly host: string;
  /** Path, optionally with a query (ignored for matching, as in the proxy). */
  readonly path: string;
  /** Rate-limit key to look up (client address, header value…); optional. */
  readonly key?: string | undefined;
  /** Request headers that selection reads (`Cookie` for sticky pools, the `hash_key` header). */
  readonly headers?: Headers | undefined;
  /** Client address for `hash_key: client_ip`. Default `""`. */
  readonly clientIp?: string | undefined;
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
}

/** Where the request would go, decided by the same selection code a real request runs. */
export interface ExplainedSelection {
  /**
   * The upstream chosen: by a valid sticky cookie, or by the consistent-hash key. `null` when it depends on
   * the balancer's turn at request time (`rule: "balancer"`), in panic (round robin over every upstream), or
   * when there is nothing to send to (`rule: "none"`: the proxy answers 503).
   */
  readonly upstream: string | null;
  readonly rule: SelectionRule;
  /** The consistent-hash key read from the request, when the pool hashes and the key is present. */
  readonly hashKey: string | null;
  /** Share of the pool available, in percent (backups stand in for primaries). */
  readonly availablePercent: number;
  readonly panic: boolean;
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
    readonly selection: ExplainedSelection;
    readonly upstreams: readonly ExplainedUpstream[];
  } | null;
  readonly rateLimit: {
    readonly requestsPerSecond: number;
    readonly burst: number;
    readonly key: string | null;
    readonly tokensLeft: number | null;
  } | null;
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
  const preview = pool.selection.preview({
    method,
    headers: query.headers ?? new Headers(),
    peerIp: query.clientIp ?? "",
    trustedProxies: undefined,
    path,
  });
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
      selection: {
        upstream: preview.upstream?.id ?? null,
        rule: preview.rule,
        hashKey: preview.hashKey ?? null,
        availablePercent: Math.round(preview.availableShare * 100),
        panic: preview.panic,
      },
      upstreams,
    },
    rateLimit: limit
      ? { requestsPerSecond: limit.requestsPerSecond, burst: limit.burst, key, tokensLeft }
      : null,
  };
}
