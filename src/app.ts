import { Hono } from "hono";
import type { AppEnv } from "./app_env.ts";
import { upstreamSnapshots } from "./admin/upstream_snapshots.ts";
import type { LineSink } from "./log/line_writer.ts";
import { ProxyMetrics } from "./metrics/proxy_metrics.ts";
import { Registry } from "./metrics/registry.ts";
import { forwardRequest } from "./middleware/forward_request.ts";
import { observe } from "./middleware/observe.ts";
import { http2Authority } from "./middleware/http2_authority.ts";
import { requestContext } from "./middleware/request_context.ts";
import { rateLimit } from "./middleware/rate_limit.ts";
import { requestGuard } from "./middleware/request_guard.ts";
import { responseCache } from "./middleware/response_cache.ts";
import { bodyLimit, requestLimits } from "./middleware/request_limits.ts";
import { routeMatch } from "./middleware/route_match.ts";
import { webSocketProxy } from "./middleware/websocket.ts";
import { errorResponse, ProxyError } from "./proxy/errors.ts";
import type { RuntimeSource } from "./runtime.ts";

export interface AppOptions {
  /** Where unexpected errors are reported; default console.error. */
  logError?: (message: string, error: unknown) => void;
  /** The process-lifetime metrics, shared with the admin app. Default: a private registry of its own. */
  metrics?: ProxyMetrics;
  /** Access log output (main passes a `BufferedLineWriter` on stdout). Default: `console.log` per line. */
  accessLog?: LineSink;
}

/**
 * The proxy's request path, top to bottom. Order matters; logic lives in the middleware modules, and each
 * middleware reads its settings from `c.get("runtime")`, so a reload changes behaviour without rebuilding this.
 * Read variables with `c.get(name)`, never `c.var`: Hono builds a fresh object from its map on every `c.var` read.
 */
export function createApp(source: RuntimeSource, options: AppOptions = {}): Hono<AppEnv> {
  const logError = options.logError ?? ((message, error) => console.error(message, error));
  const metrics = options.metrics ??
    new ProxyMetrics(new Registry(), { upstreams: () => upstreamSnapshots(source.current) });
  const accessLog = options.accessLog ?? { write: (line: string) => console.log(line) };
  const app = new Hono<AppEnv>();
  // 1. runtime snapshot, peer address, request id
  app.use(requestContext(source));
  // 2. access log + metrics (observability)
  app.use(observe({ metrics, log: accessLog }));
  // 3. request limits (methods, Host, sizes)
  app.use(http2Authority()); // before the Host check: HTTP/2 carries the host in :authority
  app.use(requestGuard());
  app.use(requestLimits());
  // 4. route: host → path → method
  app.use(routeMatch());
  app.use(bodyLimit()); // needs the route: routes may override limits.max_body_size
  // 5. rate limit (per route / client)
  app.use(rateLimit());
  app.use(webSocketProxy()); // upgrades are relayed here, never cached or sent through the forwarder
  // 6. response cache
  app.use(responseCache());
  // 7. forward to an upstream of the route's pool
  app.all("*", forwardRequest());
  app.onError((error, c) => {
    const requestId = c.get("requestId") ?? "-";
    if (error instanceof ProxyError) {
      const extra = error.retryAfterMs !== undefined
        ? { "retry-after": String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))) }
        : undefined;
      return errorResponse(error.status, error.message, requestId, extra);
    }
    logError(`[${requestId}] unexpected error`, error);
    return errorResponse(500, "internal proxy error", requestId);
  });
  return app;
}
