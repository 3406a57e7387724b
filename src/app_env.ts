import type { CacheResult } from "./metrics/proxy_metrics.ts";
import type { RouteRuntime, Runtime } from "./runtime.ts";
import type { Upstream } from "./upstream/upstream.ts";

/** Per-request values set by middleware (`c.set` / `c.get`; not `c.var`, which copies the map per read). */
export interface AppVariables {
  /** The runtime this request started on (a reload does not change it mid-request). */
  runtime: Runtime;
  requestId: string;
  /** Address of the socket peer. */
  peerIp: string;
  /** True when the peer is in server.trusted_proxies. */
  trusted: boolean;
  route: RouteRuntime;
  upstream: Upstream;
  /** Upstream attempts made for this request (1 without retries). */
  attempts: number;
  /** `/path?query` of the request URL. */
  pathAndQuery: string;
  /**
   * Set by the response cache (`hit`, `miss`, `stale`, `bypass`, `revalidated`); unset when it took no part.
   * The access log's `cache` field.
   */
  cacheStatus: CacheResult;
}

/** `c.env` is what Deno.serve passes as the second handler argument (absent under `app.request`). */
export interface AppEnv {
  Bindings: Partial<Deno.ServeHandlerInfo<Deno.NetAddr>>;
  Variables: AppVariables;
}
