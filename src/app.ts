import { type Context, Hono, type MiddlewareHandler } from "hono";
import type { AppEnv } from "./app_env.ts";
import { upstreamSnapshots } from "./admin/upstream_snapshots.ts";
import type { LineSink } from "./log/line_writer.ts";
import { ProxyMetrics } from "./metrics/proxy_metrics.ts";
import { Registry } from "./metrics/registry.ts";
import { chain } from "./middleware/chain.ts";
import { anyPath, LoneHandlerRouter } from "./middleware/lone_handler_router.ts";
import { forwardRequest } from "./middleware/forward_request.ts";
import { requestEntry } from "./middleware/request_entry.ts";
import { responseCache } from "./middleware/response_cache.ts";
import { isWebSocketUpgrade, webSocketProxy } from "./middleware/websocket.ts";
import { errorResponse, ProxyError } from "./errors.ts";
import type { Runtime, RuntimeSource } from "./runtime.ts";
import { RequestState } from "./request_state.ts";
import { errorReason, stderrEventLog } from "./log/event_log.ts";

export interface AppOptions {
  /** Where unexpected errors are reported; default console.error. */
  logError?: (message: string, error: unknown) => void;
  /** The process-lifetime metrics, shared with the admin app. Default: a private registry of its own. */
  metrics?: ProxyMetrics;
  /** Access log output (main passes a `BufferedLineWriter` on stdout). Default: `console.log` per line. */
  accessLog?: LineSink;
}

/** What `Deno.serve` calls: `createApp(...).fetch`. */
export interface ProxyApp {
  fetch(request: Request, info?: Deno.ServeHandlerInfo): Response | Promise<Response>;
}

/**
 * The proxy's request path. Each runtime (one per loaded config) gets its own Hono app, built on its first
 * request and dropped with it, so a feature that is off in the config adds no middleware level at all; a
 * reload swaps `source.current` and with it the app. See {@linkcode buildApp} for the order.
 */
export function createApp(source: RuntimeSource, options: AppOptions = {}): ProxyApp {
  const shared: SharedParts = {
    logError: options.logError ??
      ((message, error) =>
        stderrEventLog("unexpected_error", {
          message,
          reason: errorReason(error),
          stack: error instanceof Error ? error.stack : undefined,
        })),
    metrics: options.metrics ??
      new ProxyMetrics(new Registry(), { upstreams: () => upstreamSnapshots(source.current) }),
    accessLog: options.accessLog ?? { write: (line: string) => console.log(line) },
  };
  const apps = new WeakMap<Runtime, Hono<AppEnv>>();
  return {
    fetch(request, info) {
      const runtime = source.current;
      let app = apps.get(runtime);
      if (app === undefined) apps.set(runtime, app = buildApp(runtime, shared));
      return app.fetch(
        request,
        new RequestState(runtime, info as Deno.ServeHandlerInfo<Deno.NetAddr> | undefined),
      );
    },
  };
}

interface SharedParts {
  logError: (message: string, error: unknown) => void;
  metrics: ProxyMetrics;
  accessLog: LineSink;
}

/**
 * One runtime's request path, top to bottom. Order matters; logic lives in the middleware modules. Per-request
 * values live in `c.env`, the request's RequestState (src/request_state.ts).
 */
function buildApp(runtime: Runtime, { logError, metrics, accessLog }: SharedParts): Hono<AppEnv> {
  // One handler for every request (below): no router work, no path parsing (lone_handler_router.ts). So
  // `c.req.path` is always "/" here: read the target from `c.env.pathAndQuery`.
  const app = new Hono<AppEnv>({ router: new LoneHandlerRouter(), getPath: anyPath });
  const onError = (error: unknown, c: Context<AppEnv>): Response => {
    const requestId = c.env.requestId;
    if (error instanceof ProxyError) {
      const extra = error.retryAfterMs !== undefined
        ? { "retry-after": String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))) }
        : undefined;
      return errorResponse(error.status, error.message, requestId, extra);
    }
    logError(`[${requestId}] unexpected error`, error);
    return errorResponse(500, "internal proxy error", requestId);
  };
  // After the entry (3–5), run by chain.ts: Hono sees one handler and composes nothing.
  const levels: MiddlewareHandler<AppEnv>[] = [];
  // 3. WebSocket upgrades are relayed here, never cached or forwarded: the upgrade check opens the next level
  //    (the cache's, or the terminal one), so it adds no level of its own
  const webSocket = webSocketProxy({ observer: metrics });
  const orUpgrade = (level: MiddlewareHandler<AppEnv>): MiddlewareHandler<AppEnv> => (c, next) =>
    isWebSocketUpgrade(c.req.raw) ? webSocket(c, next) : level(c, next);
  // 4. response cache, only when configured
  if (runtime.cache !== undefined) levels.push(orUpgrade(responseCache({ metrics })));
  // 5. forward to an upstream of the route's pool
  const forward = forwardRequest();
  levels.push(runtime.cache !== undefined ? forward : orUpgrade(forward));
  // 1. the entry (request_entry.ts): runtime snapshot, peer address, request id; metrics and access log around
  //    everything below; request checks (HTTP/2 :authority as Host on a TLS listener, then methods, Host,
  //    Expect, OPTIONS, absolute-form targets, then head sizes); route (host → path → method); body limit;
  // 2. then the rate limit (per route / client, rate_limit.ts), only when some route is limited
  app.all(
    "*",
    requestEntry({
      runtime,
      https: runtime.proto === "https",
      onError,
      downstream: chain(levels, onError),
      metrics,
      log: accessLog,
      format: runtime.config.accessLog.format,
    }),
  );
  app.onError(onError);
  return app;
}
