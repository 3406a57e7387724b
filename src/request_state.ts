import type { CacheResult } from "./metrics/proxy_metrics.ts";
import type { RouteRuntime, Runtime } from "./runtime.ts";
import type { Upstream } from "./upstream/upstream.ts";

/** What `Deno.serve` passes with each request (absent when a test calls the app directly). */
export type ServeInfo = Partial<Deno.ServeHandlerInfo<Deno.NetAddr>>;

/**
 * One request's values, shared by the levels of the request path: src/app.ts creates it and hands it to
 * Hono as the request's `c.env`, the entry (request_context.ts) fills in the peer, the id and the target,
 * route_match.ts the route, forwarding the upstream. Plain fields instead of Hono's `c.set`/`c.get`, which
 * keep a Map per request: a cache hit's 7 sets and 12 reads take ≈ 0.2 µs less this way, a forwarded
 * request's 8 and 18 as much (bench/state_bench.ts, Context included: 401 → 175 ns and 457 → 250 ns).
 */
export class RequestState {
  /** Assigned by the entry: `X-Request-Id` from a trusted peer, else a new id ("-" before that). */
  requestId = "-";
  /** Address of the socket peer. */
  peerIp = "unknown";
  /** True when the peer is in server.trusted_proxies. */
  trusted = false;
  /** `/path?query` of the request URL. */
  pathAndQuery = "/";
  /** The matched route: set before any level after the entry runs; undefined only for a refused request. */
  route: RouteRuntime | undefined = undefined;
  /** The upstream of the last attempt; undefined when nothing was forwarded. */
  upstream: Upstream | undefined = undefined;
  /** Upstream attempts made for this request (1 without retries); 0 when nothing was forwarded. */
  attempts = 0;
  /**
   * Set by the response cache (`hit`, `miss`, `stale`, `bypass`, `revalidated`); undefined when it took no
   * part. The access log's `cache` field.
   */
  cacheStatus: CacheResult | undefined = undefined;

  constructor(
    /** The runtime this request started on (a reload does not change it mid-request). */
    readonly runtime: Runtime,
    /** Deno.serve's handler info: the peer address and the `completed` promise. */
    readonly info: ServeInfo | undefined,
  ) {}

  /** The matched route, for the levels that run only after route_match.ts found one. */
  matched(): RouteRuntime {
    const route = this.route;
    if (route === undefined) throw new Error("no route matched yet");
    return route;
  }
}
